import { expect } from 'chai';
import { join } from 'node:path';
import { runUpdate } from '../../src/agent/update.js';
import { writePrivateKeyFile } from '../../src/crypto/key-store.js';
import { ingestBatch } from '../../src/fleet/ingest.js';
import { keyLookupFrom } from '../../src/fleet/registry.js';
import { haltRollout } from '../../src/fleet/rollouts/auto-halt.js';
import { RolloutMonitor } from '../../src/fleet/rollouts/monitor.js';
import { SqliteFleetStore } from '../../src/fleet/store/sqlite-store.js';
import { applyRollout, setRolloutTarget } from '../../src/rollout/publisher-workdir.js';
import type { RolloutChange } from '../../src/rollout/edit.js';
import type { RolloutPolicy } from '../../src/rollout/policy.js';
import { simDevice } from '../fleet/fleet-fixtures.js';
import { imageOf, testKey } from '../helpers/tuf-repo.js';
import { LiveRepo } from './live-repo.js';
import { S, useBoardRig, withDevice, type Board } from './rig.js';

// Staged rollouts through the real update path: a policy signed by the online `rollouts` key holds a
// release back (halt) at the device's next refresh and lets it through on resume (docs/rollouts.md).
describe('agent update under a signed rollout policy (real swtpm)', function () {
  const rig = useBoardRig(this, { scratch: 'es-agent-rollout-' });
  const SALT = '3c'.repeat(16);

  let policy: RolloutPolicy | undefined;
  // what `edgeseal repo rollout` does, then a publish that re-signs only online-keyed roles
  const rollout = async (pub: LiveRepo, change: RolloutChange): Promise<void> => {
    const staged = applyRollout(pub.repo, policy, { target: S.v2.target, change, now: new Date(), salt: SALT, newKeys: () => [testKey('rollouts')] });
    policy = staged.policy;
    pub.blobs.set(staged.sha256, staged.bytes);
    // only creating the delegation touches targets; every later change is signed with online keys alone
    if (!staged.created) expect(pub.repo.pending(), 'roles to re-sign').to.deep.equal(['rollouts']);
    await pub.publish();
  };
  const update = (board: Board): ReturnType<typeof runUpdate> => withDevice(board, (dev) => runUpdate(dev));
  const untouched = async (board: Board): Promise<void> => {
    expect(await board.boot.state()).to.deep.equal({ active: 'A', good: 'A', trySlot: null, tryCount: 0 });
  };

  beforeEach(() => (policy = undefined));

  it('a halt stops the install at the next refresh, resume lets it through, and the armed trial still commits after a new halt', async () => {
    const pub = new LiveRepo(join(rig.dir, 'repo-halt'));
    await pub.publish();
    const board = await rig.board({}, 'board-a', pub.dir);
    pub.addV2();
    await rollout(pub, { kind: 'percent', percent: 100 });
    await rollout(pub, { kind: 'halt' });

    const halted = await update(board);
    expect(halted).to.include({ action: 'none', code: 'ROLLOUT_WITHHELD' });
    expect(halted.message).to.contain('rollout halted').and.contain(S.v2.target);
    await untouched(board);

    await rollout(pub, { kind: 'resume' });
    const resumed = await update(board);
    expect(resumed).to.include({ action: 'installed' });
    expect(resumed.target).to.include({ name: S.v2.target });
    expect(resumed.reasons?.find((r) => r.startsWith('in rollout cohort'))).to.match(/^in rollout cohort \(\d{1,4} < 10000\)$/);

    // decided in docs/rollouts.md: a halt stops new installs; a trial already armed runs its course
    await rollout(pub, { kind: 'halt' });
    expect((await rig.reboot(board)).action).to.equal('committed');
  });

  it('holds back a device outside the cohort with the bucket in the reason; the canary ring lets it in', async () => {
    const pub = new LiveRepo(join(rig.dir, 'repo-cohort'));
    await pub.publish();
    const board = await rig.board({}, 'board-a', pub.dir);
    pub.addV2();
    await rollout(pub, { kind: 'percent', percent: 0 });
    const held = await update(board);
    expect(held).to.include({ action: 'none', code: 'ROLLOUT_WITHHELD' });
    expect(held.message).to.match(/not yet in rollout \(\d{1,4} ≥ 0\)/);
    const keyid = await withDevice(board, (dev) => Promise.resolve(dev.trust.identity.reportKeyId));
    await rollout(pub, { kind: 'allow', keyids: [keyid] });
    const canary = await update(board);
    expect(canary).to.include({ action: 'installed' });
    expect(canary.reasons).to.include('in canary ring');
  });

  it('outside the cohort of the newest release, falls back to the newest older release that is fully rolled out', async () => {
    const pub = new LiveRepo(join(rig.dir, 'repo-fallback'));
    await pub.publish();
    const board = await rig.board({}, 'board-a', pub.dir);
    pub.addV2(); // no rollout names it: every board-a device may take it
    pub.addRaw(S.v3.target, imageOf('live-v3', 96 * 1024), { hardwareIds: ['board-a'], version: S.v3.version, securityVersion: S.v3.securityVersion, kind: 'firmware' });
    const staged = applyRollout(pub.repo, undefined, { target: S.v3.target, change: { kind: 'percent', percent: 0 }, now: new Date(), salt: SALT, newKeys: () => [testKey('rollouts')] });
    pub.blobs.set(staged.sha256, staged.bytes);
    await pub.publish();
    const o = await update(board);
    expect(o).to.include({ action: 'installed' });
    expect(o.target).to.include({ name: S.v2.target });
    expect(o.reasons?.[0]).to.match(new RegExp(`^${S.v3.target}: not yet in rollout \\(\\d{1,4} ≥ 0\\) \\(rollout policy v1\\); falling back to ${S.v2.target} \\(version 1\\.1\\.0, fully rolled out: no rollout names it\\)$`));
  });

  it('refuses every install when the rollouts key signs a policy that widens what targets signed', async () => {
    const pub = new LiveRepo(join(rig.dir, 'repo-widen'));
    await pub.publish();
    const board = await rig.board({}, 'board-a', pub.dir);
    pub.addV2();
    await rollout(pub, { kind: 'percent', percent: 100 });
    // the online key alone, skipping the publisher's check: a rollout for a target nobody signed
    const widened = { ...policy!, version: policy!.version + 1, rollouts: { ...policy!.rollouts, 'fw/board-a/evil.bin': { salt: SALT, percent: 100 } } };
    const { bytes, sha256 } = setRolloutTarget(pub.repo, widened, () => []);
    pub.blobs.set(sha256, bytes);
    await pub.publish();
    const o = await update(board);
    expect(o).to.include({ action: 'refused', code: 'ROLLOUT_WIDENS' });
    expect(o.message).to.contain('fw/board-a/evil.bin');
    await untouched(board);
  });

  it('the collector halts a rollout whose failure rate passes the threshold; the device then withholds the install', async () => {
    const pub = new LiveRepo(join(rig.dir, 'repo-auto-halt'));
    await pub.publish();
    const board = await rig.board({}, 'board-a', pub.dir);
    pub.addV2();
    await rollout(pub, { kind: 'percent', percent: 100 });
    // the publisher's workdir with the online snapshot and timestamp keys, the rollouts key where fleet.json names it
    const workdir = join(rig.dir, 'work-auto-halt');
    await pub.saveWorkdir(workdir);
    const rolloutKey = join(rig.dir, 'rollouts-key.json');
    await writePrivateKeyFile(rolloutKey, testKey('rollouts'));
    // failures reported by other devices, verified and stored by the collector: 2 of 5 installs rolled back
    const store = SqliteFleetStore.open(join(rig.dir, 'fleet-auto-halt.db'));
    try {
      const devices = Array.from({ length: 5 }, (_, i) => simDevice(300 + i, 'lab', 'board-a'));
      for (const d of devices) await store.enroll(d.enrollment, new Date());
      const image = { name: S.v2.target, version: S.v2.version };
      const events = devices.map((d) => ({ raw: d.envelope(1, { type: 'install', verdict: 'ok', image }), receivedAt: new Date() }));
      for (const d of devices.slice(0, 2)) events.push({ raw: d.envelope(2, { type: 'rollback', verdict: 'refused', code: 'HEALTH_CHECK_FAILED', image }), receivedAt: new Date() });
      await ingestBatch(store, keyLookupFrom(await store.devices()), events);
      const config = { repository: pub.dir, trustedRoot: join(pub.dir, 'metadata', '1.root.json'), checkSeconds: 60, failureThresholdPercent: 20, minSample: 4, halt: { workdir, key: rolloutKey } };
      const lines: string[] = [];
      const monitor = new RolloutMonitor({ config, store, halt: (t, at) => haltRollout(config, config.halt, t, at), log: (_level, line) => lines.push(line) });
      const report = await monitor.check(new Date());
      expect(lines.join('\n')).to.contain(`HALTED ${S.v2.target} automatically: failure rate 40.0 % (2 of 5 installs) > 20 %`);
      expect(report.rollouts[0]).to.deep.include({ halted: true });
    } finally {
      await store.close();
    }
    const withheld = await update(board);
    expect(withheld).to.include({ action: 'none', code: 'ROLLOUT_WITHHELD' });
    expect(withheld.message).to.contain('rollout halted').and.contain(S.v2.target);
    await untouched(board);
  });
});
