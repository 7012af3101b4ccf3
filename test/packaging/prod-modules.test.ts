import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO_ROOT } from '../../packaging/build.js';
import { productionEntries } from '../../packaging/prod-modules.js';

describe('device node_modules: which packages (package-lock.json)', () => {
  it('keeps production packages, nested ones included; drops dev, peer, optional and types-only packages', () => {
    const lock = {
      packages: {
        '': {},
        'node_modules/tuf-js': { version: '6.0.2' },
        'node_modules/winston/node_modules/readable-stream': { version: '3.6.2' },
        'node_modules/aedes': { version: '1.2.0', dev: true },
        'node_modules/some-peer': { peer: true },
        'node_modules/unix-dgram': { optional: true },
        'node_modules/either': { devOptional: true },
        'node_modules/@types/node': { version: '24.0.0' },
        'node_modules/undici-types': { version: '7.0.0' },
      },
    };
    expect(productionEntries(lock)).to.deep.equal(['node_modules/tuf-js', 'node_modules/winston/node_modules/readable-stream']);
  });

  it('the real lock: the device dependencies are in, the demo broker and the toolchain are out', async () => {
    const lock = JSON.parse(await readFile(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as Parameters<typeof productionEntries>[0];
    const names = productionEntries(lock).map((p) => p.replace(/^.*node_modules\//, ''));
    expect(names).to.include.members(['tuf-js', '@tufjs/models', '@tufjs/canonical-json', 'mqtt', 'tweetnacl']);
    for (const dev of ['aedes', 'mocha', 'typescript', 'eslint', 'chai', 'unix-dgram']) expect(names, dev).to.not.include(dev);
  });
});
