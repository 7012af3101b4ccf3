import { expect } from 'chai';
import { readdir, readFile, readlink, rename, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { agentPaths } from '../../src/agent/agent-state.js';
import { runBootCheck } from '../../src/agent/boot-check.js';
import { refreshMetadata } from '../../src/agent/metadata-refresh.js';
import { runUpdate } from '../../src/agent/update.js';
import { nodeCacheFs, recordingCacheFs, type CacheFsOp } from '../../src/tuf/cache/cache-fs.js';
import { LiveRepo } from './live-repo.js';
import { serveRepo } from './repo-server.js';
import { RevocationPublisher } from './revocation-publisher.js';
import { useBoardRig, withDevice, type Board } from './rig.js';

// Issue 10 A: the boot cache changes only by whole, verified steps (findings 1 and 3).
describe('metadata cache: refresh into a generation, promote whole sets only (real swtpm, loopback HTTP)', function () {
  const rig = useBoardRig(this, { scratch: 'es-agent-cache-' });

  const bootOk = async (board: Board): Promise<void> => {
    const check = await withDevice(board, (dev) => runBootCheck(dev, new Date()));
    expect(check.outcomes.map((o) => (o.verdict.ok ? 'VERIFIED' : o.verdict.code))).to.deep.equal(['VERIFIED']);
  };
  const generations = async (board: Board): Promise<string[]> => (await readdir(agentPaths(board.config.stateDir).metadataCache)).filter((n) => n !== 'current').sort();

  // finding 1: the mirror is mid-sync (new timestamp.json, its N.snapshot.json missing, then truncated)
  it('a mirror serving a new timestamp without its snapshot (missing, then truncated): refused, nothing lands, the factory image boots, the repaired mirror updates', async () => {
    const pub = new LiveRepo(join(rig.dir, 'partial'));
    await pub.publish();
    const board = await rig.board({}, 'board-a', pub.dir);
    const before = await generations(board);
    pub.addV2();
    await pub.publish();
    const snapshot = join(pub.dir, 'metadata', '2.snapshot.json');
    const good = await readFile(snapshot);
    const server = await serveRepo(pub.dir);
    try {
      await rename(snapshot, `${snapshot}.syncing`);
      expect(await withDevice(board, (dev) => runUpdate(dev, { from: server.url }))).to.include({ action: 'refused', code: 'FETCH_FAILED' });
      expect(await generations(board)).to.deep.equal(before);
      await bootOk(board);

      await rename(`${snapshot}.syncing`, snapshot);
      await truncate(snapshot, good.length >> 1);
      const truncated = await withDevice(board, (dev) => runUpdate(dev, { from: server.url }));
      expect(truncated.action).to.equal('refused');
      expect(await generations(board)).to.deep.equal(before);
      await bootOk(board);
      expect(await withDevice(board, (dev) => dev.trust.readFloors())).to.include({ targetsVersion: 1 });

      await writeFile(snapshot, good);
      expect(await withDevice(board, (dev) => runUpdate(dev, { from: server.url }))).to.include({ action: 'installed' });
      expect(await withDevice(board, (dev) => dev.trust.readFloors())).to.include({ targetsVersion: 2 });
      expect(await generations(board)).to.have.length(1).and.not.deep.equal(before);
    } finally {
      await server.close();
    }
  });

  // finding 3: the update client starts from the root chain verified from the pinned root, not root.json on disk
  it('a swapped root.json in the cache: the attacker mirror is refused and lands nothing; boot and the genuine mirror still work', async () => {
    const pub = new LiveRepo(join(rig.dir, 'genuine'));
    await pub.publish();
    const board = await rig.board({}, 'board-a', pub.dir);
    const evil = new RevocationPublisher(join(rig.dir, 'attacker'), 'attacker');
    await evil.publish();
    const promoted = agentPaths(board.config.stateDir).metadataDir;
    const link = await readlink(join(agentPaths(board.config.stateDir).metadataCache, 'current'));
    await writeFile(join(promoted, 'root.json'), await readFile(join(evil.dir, 'metadata', '1.root.json')));

    expect(await withDevice(board, (dev) => runUpdate(dev, { from: evil.dir }))).to.include({ action: 'refused', code: 'SIGNATURE_THRESHOLD' });
    expect(await readlink(join(agentPaths(board.config.stateDir).metadataCache, 'current'))).to.equal(link);
    await bootOk(board);
    pub.addV2();
    await pub.publish();
    expect(await withDevice(board, (dev) => runUpdate(dev))).to.include({ action: 'installed' });
    await bootOk(board);
  });

  // the filesystem port records the order: generation written, every file and dir fsync'd, link, rename, dir fsync; floors after
  it('writes, fsyncs and renames in order: the new generation is durable before the link swap, the swap before the floors rise', async () => {
    const pub = new LiveRepo(join(rig.dir, 'order'));
    await pub.publish();
    const board = await rig.board({}, 'board-a', pub.dir);
    pub.repo.markDirty('targets');
    await pub.publish();
    const log: (CacheFsOp | readonly ['step', string])[] = [];
    const fs = recordingCacheFs(nodeCacheFs, log as CacheFsOp[]);
    await withDevice(board, (dev) => refreshMetadata(dev, pub.dir, { fs, step: (s) => void log.push(['step', s]) }));
    const cache = agentPaths(board.config.stateDir).metadataCache;
    const at = (pred: (e: (typeof log)[number]) => boolean): number => log.findIndex(pred);
    const rename = at((e) => e[0] === 'rename');
    const [, linkPath, to] = log[rename] as CacheFsOp;
    expect(to).to.equal(join(cache, 'current'));
    expect(at((e) => e[0] === 'symlink' && e[1] === linkPath)).to.be.lessThan(rename);
    const gen = (await readlink(join(cache, 'current')));
    const genFiles = (await readdir(join(cache, gen), { recursive: true })).map((f) => join(cache, gen, f));
    // every file of the promoted generation was fsync'd before the rename, and so was the cache dir
    for (const f of genFiles) expect(at((e) => e[0] === 'fsync' && e[1] === f), f).to.be.within(0, rename);
    expect(at((e) => e[0] === 'fsync' && e[1] === cache)).to.be.lessThan(rename);
    expect(log.slice(rename + 1).findIndex((e) => e[0] === 'fsync' && e[1] === cache)).to.be.at.least(0);
    const steps = log.filter((e) => e[0] === 'step').map((e) => e[1]);
    expect(steps).to.deep.equal(['seeded', 'fetched', 'delegated', 'revocation-list', 'verified', 'synced', 'linked', 'promoted', 'dir-synced', 'floors-raised', 'collected']);
    expect(at((e) => e[0] === 'step' && e[1] === 'floors-raised')).to.be.greaterThan(at((e) => e[0] === 'step' && e[1] === 'dir-synced'));
    expect(await withDevice(board, (dev) => dev.trust.readFloors())).to.include({ targetsVersion: 2 });
  });
});
