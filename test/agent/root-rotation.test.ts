import { expect } from 'chai';
import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { bootSequence } from '../../src/agent/boot-sequence.js';
import { runBootCheck } from '../../src/agent/boot-check.js';
import { runUpdate } from '../../src/agent/update.js';
import { LiveRepo } from './live-repo.js';
import { useBoardRig, withDevice, type Board } from './rig.js';

// H3: the TPM root-version floor rises as soon as a rotated root is accepted through the verified
// chain from the pinned root — in the update flow without any new image, and at boot — so an older,
// validly signed chain restored on disk is refused as ROLLBACK.
describe('agent root rotation raises the TPM root floor at once (real swtpm, tuf-js)', function () {
  const rig = useBoardRig(this, { scratch: 'es-agent-root-' });

  // a published repository on root v1, a board provisioned from it, then root rotated to v3
  async function rotatedBoard(name: string): Promise<{ pub: LiveRepo; board: Board; metadataDir: string }> {
    const pub = new LiveRepo(join(rig.dir, name));
    await pub.publish();
    const board = await rig.board({}, 'board-a', pub.dir);
    pub.rotateRoot('root-2');
    pub.rotateRoot('root-3');
    await pub.publish();
    return { pub, board, metadataDir: join(board.config.stateDir, 'metadata', 'current') };
  }

  it('update flow with no new image: floor 3; the v1 metadata restored on disk is refused with ROLLBACK', async () => {
    const { board, metadataDir: promoted } = await rotatedBoard('update');
    const metadataDir = dirname(promoted); // the whole cache: generations and `current`
    const v1Cache = join(rig.dir, 'update-v1-cache');
    await cp(metadataDir, v1Cache, { recursive: true });
    expect(await withDevice(board, (dev) => dev.trust.readFloors())).to.include({ rootVersion: 1 });

    expect(await withDevice(board, (dev) => runUpdate(dev))).to.include({ action: 'none', code: 'NO_UPDATE' });
    expect(await withDevice(board, (dev) => dev.trust.readFloors())).to.include({ rootVersion: 3, securityVersion: 0 });

    await rm(metadataDir, { recursive: true });
    await cp(v1Cache, metadataDir, { recursive: true });
    const check = await withDevice(board, (dev) => runBootCheck(dev, new Date()));
    expect(check.outcomes.map((o) => (o.verdict.ok ? 'VERIFIED' : o.verdict.code))).to.deep.equal(['ROLLBACK']);
    expect(await withDevice(board, (dev) => bootSequence(dev, new Date()))).to.include({ action: 'refused', proceed: false, code: 'ROLLBACK' });
  });

  it('at boot: a cached chain longer than the floor raises it', async () => {
    const { pub, board, metadataDir } = await rotatedBoard('boot');
    // the rotated roots reached the cache, but the raise did not happen (e.g. power lost right after)
    for (const v of [2, 3]) await writeFile(join(metadataDir, 'roots', `${v}.root.json`), await readFile(join(pub.dir, 'metadata', `${v}.root.json`)));
    await writeFile(join(metadataDir, 'root.json'), await readFile(join(pub.dir, 'metadata', '3.root.json')));
    expect(await withDevice(board, (dev) => dev.trust.readFloors())).to.include({ rootVersion: 1 });

    const boot = await withDevice(board, (dev) => bootSequence(dev, new Date()));
    expect(boot).to.include({ action: 'verified', proceed: true });
    expect(boot.check.rootVersion).to.equal(3);
    expect(await withDevice(board, (dev) => dev.trust.readFloors())).to.include({ rootVersion: 3 });
  });
});
