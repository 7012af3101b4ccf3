import { expect } from 'chai';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { optionalDependency } from '../../src/io/optional-dependency.js';
import { expectCodeAsync } from '../helpers/expect-code.js';

const load = (specifier: string) => (): Promise<unknown> => import(specifier) as Promise<unknown>;

describe('optionalDependency (packages the device install leaves out)', () => {
  it('a missing package is DEPENDENCY_MISSING naming the package and the feature', async () => {
    const e = await expectCodeAsync(() => optionalDependency('edgeseal-absent-pkg', 'the fleet dashboard', load('edgeseal-absent-pkg')), 'DEPENDENCY_MISSING');
    expect(e.message).to.contain('the fleet dashboard needs the npm package edgeseal-absent-pkg').and.contain('npm install edgeseal-absent-pkg');
  });

  it('an installed package loads with its exports', async () => {
    const m = await optionalDependency('aedes', 'the embedded MQTT broker', () => import('aedes'));
    expect(typeof m.Aedes).to.equal('function');
  });

  it('a package that is present but broken keeps its own error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'es-optdep-'));
    await writeFile(join(dir, 'broken.mjs'), "import 'edgeseal-absent-inner';\n");
    const err = await optionalDependency('broken', 'a feature', load(pathToFileURL(join(dir, 'broken.mjs')).href)).then(
      () => undefined,
      (e: unknown) => e as NodeJS.ErrnoException,
    );
    expect(err?.code).to.equal('ERR_MODULE_NOT_FOUND');
    expect(err?.message).to.contain('edgeseal-absent-inner');
  });
});
