import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { publishedLayout } from '../../src/repo/published-layout.js';
import { writePublished } from '../../src/repo/publish-dir.js';
import { addImage, customFor, imageOf, newRepo, T0, testKey } from '../helpers/tuf-repo.js';

// `edgeseal verify` runs at every boot (issue 12 A: start-up within 60 ms of `node -e 0`): it must load
// our own modules only. @tufjs/models alone cost ~30 ms of start-up (its CJS files, minimatch,
// brace-expansion); this fails when anything under node_modules comes back onto the verify path.

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
// A load hook that records every module the process loads (ESM and CommonJS alike) into a file at exit.
const HOOK = `import { registerHooks } from 'node:module';
import { writeFileSync } from 'node:fs';
const loaded = [];
registerHooks({ load(url, context, next) { loaded.push(url); return next(url, context); } });
process.on('exit', () => writeFileSync(process.env.EDGESEAL_LOADED_FILE, JSON.stringify(loaded)));
`;

describe('cli verify loads no dependency', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'edgeseal-verify-modules-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('verifies a delegated target with only node: built-ins and edgeseal modules loaded', async () => {
    const { repo } = newRepo();
    const image = imageOf('app', 1024);
    repo.delegate({ name: 'builder', paths: ['apps/*'], keys: [testKey('builder')] });
    addImage(repo, 'apps/app.bin', image, customFor({ kind: 'app' }), 'builder');
    repo.sign(T0);
    await writePublished(join(dir, 'site'), publishedLayout(repo), () => image);
    await writeFile(join(dir, 'app.bin'), image);
    await writeFile(join(dir, 'hook.mjs'), HOOK);
    const loadedFile = join(dir, 'loaded.json');

    const argv = ['--import', join(dir, 'hook.mjs'), MAIN, 'verify', '--metadata', join(dir, 'site', 'metadata'), '--target', 'apps/app.bin', '--file', join(dir, 'app.bin'), '--hardware-id', 'board-a', '--now', T0.toISOString()];
    const { stdout } = await promisify(execFile)(process.execPath, argv, { env: { ...process.env, EDGESEAL_LOADED_FILE: loadedFile } });
    expect(stdout).to.match(/^VERIFIED apps\/app\.bin/);
    expect(stdout).to.contain('signed by builder');

    const loaded = JSON.parse(await readFile(loadedFile, 'utf8')) as string[];
    const ours = loaded.filter((url) => url.startsWith('file:') && !url.endsWith('/hook.mjs'));
    expect(ours.some((url) => url.endsWith('/src/tuf/offline/load-trusted.js')), 'the hook saw the verify path').to.equal(true);
    expect(ours.filter((url) => url.includes('/node_modules/'))).to.deep.equal([]);
    expect(loaded.filter((url) => !url.startsWith('file:') && !url.startsWith('node:'))).to.deep.equal([]);
  });
});
