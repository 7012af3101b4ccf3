import { expect } from 'chai';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { runBootCheck } from '../../src/agent/boot-check.js';
import { runUpdate } from '../../src/agent/update.js';
import { parseEnvelope } from '../../src/telemetry/envelope.js';
import { DiskOutboxStore } from '../../src/telemetry/outbox/disk-store.js';
import { addImage, imageOf, sha256Hex, testKey } from '../helpers/tuf-repo.js';
import { LiveRepo } from './live-repo.js';
import { useBoardRig, withDevice } from './rig.js';

// A release signed by a delegated builder role (`edgeseal repo delegate` + `repo add-target --role builder`)
// is an update candidate like a top-level one: the agent's refresh brings the builder's metadata into
// the cache the gate and the boot check read, and replaces it when the builder publishes again.
describe('agent update to images signed by a delegated builder role (real swtpm)', function () {
  const rig = useBoardRig(this, { scratch: 'es-agent-delegated-' });

  const BUILT = (v: string): string => `fw/board-a/built-${v}.bin`;
  const build = (pub: LiveRepo, version: string, securityVersion: number): Buffer => {
    const bytes = imageOf(`built-${version}`, 72 * 1024);
    pub.blobs.set(sha256Hex(bytes), bytes);
    addImage(pub.repo, BUILT(version), bytes, { hardwareIds: ['board-a'], version, securityVersion, kind: 'firmware' }, 'builder');
    return bytes;
  };
  const builderVersion = async (stateDir: string): Promise<number> =>
    (JSON.parse(await readFile(join(stateDir, 'metadata', 'current', 'builder.json'), 'utf8')) as { signed: { version: number } }).signed.version;

  it('installs and commits the builder-signed release, then follows the builder to its next one', async () => {
    const pub = new LiveRepo(join(rig.dir, 'repo'));
    await pub.publish();
    const board = await rig.board({}, 'board-a', pub.dir);
    pub.repo.delegate({ name: 'builder', paths: ['fw/board-a/built-*'], keys: [testKey('builder')] });
    const v2 = build(pub, '1.1.0', 2);
    await pub.publish();

    const first = await withDevice(board, (dev) => runUpdate(dev));
    expect(first).to.include({ action: 'installed', next: 'reboot' });
    expect(first.target).to.include({ name: BUILT('1.1.0'), version: '1.1.0', sha256: sha256Hex(v2) });
    expect(await readFile(board.slots.b)).to.deep.equal(v2);
    // the boot check of the trial slot resolves the image through the cached builder role
    const boot = await rig.reboot(board);
    expect(boot.action).to.equal('committed');
    expect(boot.check.outcomes[0].image).to.include({ slot: 'B', target: BUILT('1.1.0') });
    expect(await withDevice(board, (dev) => dev.trust.readFloors())).to.include({ securityVersion: 2 });
    expect(await builderVersion(board.config.stateDir)).to.equal(1);

    // the builder publishes again: a new snapshot names builder v2, the cached v1 is stale
    build(pub, '1.2.0', 3);
    await pub.publish();
    const second = await withDevice(board, (dev) => runUpdate(dev));
    expect(second).to.include({ action: 'installed' });
    expect(second.target).to.include({ name: BUILT('1.2.0'), version: '1.2.0' });
    expect(await builderVersion(board.config.stateDir)).to.equal(2);
    expect((await rig.reboot(board)).action).to.equal('committed');
  });

  // decided in docs/metadata-cache.md: one delegated role that does not refresh blocks promotion (a set with a
  // stale role would fail the boot check of an image it signed); the promoted set and the floors stay
  it('reports a builder role the mirror does not serve and promotes nothing: the update is refused, the boot check still passes', async () => {
    const pub = new LiveRepo(join(rig.dir, 'repo-missing'));
    await pub.publish();
    const board = await rig.board({}, 'board-a', pub.dir);
    pub.repo.delegate({ name: 'builder', paths: ['fw/board-a/built-*'], keys: [testKey('builder')] });
    build(pub, '1.1.0', 2);
    await pub.publish();
    await rm(join(pub.dir, 'metadata', '1.builder.json'));

    expect(await withDevice(board, (dev) => runUpdate(dev))).to.include({ action: 'refused', code: 'FETCH_FAILED' });
    expect(await withDevice(board, (dev) => dev.trust.readFloors())).to.include({ targetsVersion: 1 });
    expect(await withDevice(board, (dev) => runBootCheck(dev, new Date()))).to.include({ ok: true, targetsVersion: 1 });
    const { entries } = await new DiskOutboxStore(join(board.config.stateDir, 'outbox')).load();
    const checks = entries.map((e) => parseEnvelope(e.bytes).event).filter((e) => e.type === 'update-check');
    expect(checks.map((e) => [e.verdict, e.code])).to.deep.equal([['error', 'FETCH_FAILED']]);
    expect(checks[0].detail).to.contain('delegated role builder');
  });
});
