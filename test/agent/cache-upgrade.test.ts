import { expect } from 'chai';
import { lstat, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { agentPaths } from '../../src/agent/agent-state.js';
import { runBootCheck } from '../../src/agent/boot-check.js';
import { bootSequence } from '../../src/agent/boot-sequence.js';
import { runUpdate } from '../../src/agent/update.js';
import { CACHE_FILE } from '../../src/revocation/cache.js';
import { parseRevocationList, serializeRevocationList } from '../../src/revocation/list.js';
import { parseEnvelope } from '../../src/telemetry/envelope.js';
import { DiskOutboxStore } from '../../src/telemetry/outbox/disk-store.js';
import { runCli } from './cli-child.js';
import { toLegacyLayout } from './legacy-cache.js';
import { LiveRepo } from './live-repo.js';
import { RevocationPublisher, sha } from './revocation-publisher.js';
import { useBoardRig, withDevice, type Board } from './rig.js';

const verdicts = async (board: Board): Promise<string[]> =>
  (await withDevice(board, (dev) => runBootCheck(dev, new Date()))).outcomes.map((o) => (o.verdict.ok ? 'VERIFIED' : o.verdict.code));

describe('metadata cache: devices in the field, repair, forged revocation cache (real swtpm)', function () {
  const rig = useBoardRig(this, { scratch: 'es-agent-upgrade-' });

  // issue 10 H: a device whose cache the agent before generations wrote upgrades in place
  it('a cache in the old layout moves into the promoted layout at first start: same report key and floors, boots, updates', async () => {
    const pub = new RevocationPublisher(join(rig.dir, 'old-repo'));
    await pub.publish({ kind: 'digest', sha256: sha(pub.v2) });
    const board = await rig.board({}, 'board-a', pub.dir);
    expect((await runCli(['revocations', 'refresh', '--config', board.configPath])).code).to.equal(0);
    const before = await withDevice(board, async (dev) => ({ id: dev.trust.identity.deviceId, key: dev.trust.identity.reportPublicKey, floors: await dev.trust.readFloors() }));
    const { metadataCache } = agentPaths(board.config.stateDir);
    await toLegacyLayout(board.config.stateDir);
    expect((await lstat(join(metadataCache, 'root.json'))).isFile()).to.equal(true);

    expect(await verdicts(board)).to.deep.equal(['VERIFIED']);
    expect((await lstat(join(metadataCache, 'current'))).isSymbolicLink()).to.equal(true);
    expect(await lstat(join(metadataCache, 'root.json')).catch(() => undefined), 'loose files removed').to.equal(undefined);
    const after = await withDevice(board, async (dev) => ({ id: dev.trust.identity.deviceId, key: dev.trust.identity.reportPublicKey, floors: await dev.trust.readFloors() }));
    expect(after).to.deep.equal(before);
    // v2 is revoked by the list the old cache held, which the migrated set now holds too
    expect(await withDevice(board, (dev) => runUpdate(dev))).to.include({ action: 'refused', code: 'IMAGE_REVOKED' });
  });

  it('`cache repair --from DIR` rebuilds a damaged promoted set from the pinned root', async () => {
    const pub = new LiveRepo(join(rig.dir, 'repair-repo'));
    await pub.publish();
    const board = await rig.board({}, 'board-a', pub.dir);
    await writeFile(join(agentPaths(board.config.stateDir).metadataDir, 'targets.json'), '{}');
    expect(await verdicts(board)).to.not.deep.equal(['VERIFIED']);
    const r = await runCli(['cache', 'repair', '--config', board.configPath, '--from', pub.dir]);
    expect(r.code, r.err).to.equal(0);
    expect(r.out).to.contain('promoted: root v1, targets v1');
    expect(await verdicts(board)).to.deep.equal(['VERIFIED']);
  });

  // finding 6: the cache's own sha256 authenticates nothing; the list inside the promoted set is enforced
  it('a revoked digest removed from the revocation cache (self-hash recomputed): the revoked image still fails its boot check, status is not fresh', async () => {
    const pub = new RevocationPublisher(join(rig.dir, 'forged-repo'));
    await pub.publish({ kind: 'digest', sha256: sha(pub.v1) });
    const board = await rig.board({}, 'board-a', pub.dir);
    expect((await runCli(['revocations', 'refresh', '--config', board.configPath])).code).to.equal(0);
    expect(await verdicts(board)).to.deep.equal(['IMAGE_REVOKED']);

    const path = join(board.config.stateDir, CACHE_FILE);
    const doc = JSON.parse(await readFile(path, 'utf8')) as { list: { length: number; sha256: string; base64: string } };
    const list = parseRevocationList(Buffer.from(doc.list.base64, 'base64'));
    const forged = serializeRevocationList({ ...list, digests: [] });
    doc.list = { length: forged.length, sha256: sha(forged), base64: Buffer.from(forged).toString('base64') };
    await writeFile(path, JSON.stringify(doc));

    expect(await verdicts(board)).to.deep.equal(['IMAGE_REVOKED']);
    const status = await runCli(['revocations', 'status', '--config', board.configPath, '--json']);
    const json = JSON.parse(status.out) as { state: string; code?: string };
    expect(json).to.include({ state: 'unauthenticated', code: 'REVOCATION_UNAUTHENTICATED' });
    expect(status.code).to.not.equal(0);
    // `status` and telemetry say it too (the boot sequence records both)
    expect(await withDevice(board, (dev) => bootSequence(dev, new Date()))).to.include({ action: 'refused', code: 'IMAGE_REVOKED' });
    expect((await runCli(['status', '--config', board.configPath])).out).to.contain('revocation [REVOCATION_UNAUTHENTICATED]');
    const { entries } = await new DiskOutboxStore(join(board.config.stateDir, 'outbox')).load();
    expect(entries.map((e) => parseEnvelope(e.bytes).event.code)).to.include('REVOCATION_UNAUTHENTICATED');
  });

  // issue 10 D: nothing is committed and no floor rises while the held list is unauthenticated (P5)
  it('a trial boot with a forged revocation cache is not committed: back to the committed slot, floors unchanged', async () => {
    const pub = new RevocationPublisher(join(rig.dir, 'trial-repo'));
    await pub.publish({ kind: 'digest', sha256: 'a'.repeat(64) });
    const board = await rig.board({}, 'board-a', pub.dir);
    expect(await withDevice(board, (dev) => runUpdate(dev))).to.include({ action: 'installed' });
    const path = join(board.config.stateDir, CACHE_FILE);
    const doc = JSON.parse(await readFile(path, 'utf8')) as { list: { length: number; sha256: string; base64: string } };
    const forged = serializeRevocationList({ ...parseRevocationList(Buffer.from(doc.list.base64, 'base64')), digests: [] });
    doc.list = { length: forged.length, sha256: sha(forged), base64: Buffer.from(forged).toString('base64') };
    await writeFile(path, JSON.stringify(doc));
    const before = await withDevice(board, (dev) => dev.trust.readFloors());
    expect(await rig.reboot(board)).to.include({ action: 'rolled-back', code: 'REVOCATION_UNAUTHENTICATED' });
    expect(await board.boot.state()).to.include({ good: 'A', trySlot: null });
    expect(await withDevice(board, (dev) => dev.trust.readFloors())).to.deep.equal(before);
  });
});
