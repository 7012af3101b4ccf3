import { expect } from 'chai';
import { cp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { bootSequence } from '../../src/agent/boot-sequence.js';
import { runBootCheck } from '../../src/agent/boot-check.js';
import { runUpdate } from '../../src/agent/update.js';
import { LiveRepo } from './live-repo.js';
import { useBoardRig, withDevice } from './rig.js';

// H4: the TPM top-level targets-version floor rises with every verified refresh, so an older, validly
// signed timestamp/snapshot/targets set restored on disk under the same root is refused as ROLLBACK
// at boot — even with expiryAtBoot=ignore (the rig's default), where nothing else would stop it.
describe('agent metadata refresh raises the TPM targets-version floor (real swtpm, tuf-js)', function () {
  const rig = useBoardRig(this, { scratch: 'es-agent-targets-' });

  it('targets v2 with no root change: floor 2 after the update flow; the v1 metadata restored on disk is refused with ROLLBACK', async () => {
    const pub = new LiveRepo(join(rig.dir, 'repo'));
    await pub.publish();
    const board = await rig.board({}, 'board-a', pub.dir);
    const metadataDir = join(board.config.stateDir, 'metadata'); // the whole cache: generations and `current`
    // the factory refresh already verified targets v1
    expect(await withDevice(board, (dev) => dev.trust.readFloors())).to.include({ rootVersion: 1, targetsVersion: 1 });
    const v1Cache = join(rig.dir, 'v1-cache');
    await cp(metadataDir, v1Cache, { recursive: true });
    expect(await withDevice(board, (dev) => runBootCheck(dev, new Date()))).to.include({ ok: true, targetsVersion: 1 });

    // a re-signed targets role (same targets, same root): version 2
    pub.repo.markDirty('targets');
    await pub.publish();
    expect(await withDevice(board, (dev) => runUpdate(dev))).to.include({ action: 'none', code: 'NO_UPDATE' });
    expect(await withDevice(board, (dev) => dev.trust.readFloors())).to.include({ rootVersion: 1, targetsVersion: 2, securityVersion: 0 });

    await rm(metadataDir, { recursive: true });
    await cp(v1Cache, metadataDir, { recursive: true });
    const check = await withDevice(board, (dev) => runBootCheck(dev, new Date()));
    expect(check.outcomes.map((o) => (o.verdict.ok ? 'VERIFIED' : o.verdict.code))).to.deep.equal(['ROLLBACK']);
    expect(await withDevice(board, (dev) => bootSequence(dev, new Date()))).to.include({ action: 'refused', proceed: false, code: 'ROLLBACK' });
    expect(await withDevice(board, (dev) => dev.trust.readFloors())).to.include({ targetsVersion: 2 });
  });

  it('at boot: a cached targets version above the floor raises it', async () => {
    const pub = new LiveRepo(join(rig.dir, 'boot-repo'));
    await pub.publish();
    const board = await rig.board({}, 'board-a', pub.dir);
    const metadataDir = join(board.config.stateDir, 'metadata', 'current');
    pub.repo.markDirty('targets');
    await pub.publish();
    // targets v2 reached the cache, but the raise did not happen (e.g. power lost right after the refresh)
    const published = join(pub.dir, 'metadata');
    for (const [from, to] of [['timestamp.json', 'timestamp.json'], ['2.snapshot.json', 'snapshot.json'], ['2.targets.json', 'targets.json']]) {
      await cp(join(published, from), join(metadataDir, to));
    }
    expect(await withDevice(board, (dev) => dev.trust.readFloors())).to.include({ targetsVersion: 1 });

    const boot = await withDevice(board, (dev) => bootSequence(dev, new Date()));
    expect(boot).to.include({ action: 'verified', proceed: true });
    expect(boot.check.targetsVersion).to.equal(2);
    expect(await withDevice(board, (dev) => dev.trust.readFloors())).to.include({ rootVersion: 1, targetsVersion: 2 });
  });
});
