import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RolloutsConfig } from '../../src/fleet/collector/config.js';
import { loadSnapshot } from '../../src/fleet/http/fleet-view.js';
import { renderMetrics } from '../../src/fleet/http/prom.js';
import { ingestBatch } from '../../src/fleet/ingest.js';
import { keyLookupFrom } from '../../src/fleet/registry.js';
import { haltRollout } from '../../src/fleet/rollouts/auto-halt.js';
import { RolloutMonitor } from '../../src/fleet/rollouts/monitor.js';
import { readRolloutSource } from '../../src/fleet/rollouts/policy-source.js';
import { SqliteFleetStore } from '../../src/fleet/store/sqlite-store.js';
import { signAndWrite } from '../../src/repo/sign-publish.js';
import { loadWorkdir } from '../../src/repo/workdir.js';
import { commandPublicKey, type CommandRef } from '../../src/crypto/command-signer.js';
import { makeSignerRef } from '../../src/crypto/signer-ref.js';
import type { EventInput } from '../../src/telemetry/event.js';
import { EXTERNAL_SIGNER, signerKey } from '../helpers/external-signer-key.js';
import { simDevice, type SimDevice } from './fleet-fixtures.js';
import { rolloutRepo, type RolloutRepo } from './rollout-repo.js';

const NOW = new Date('2026-03-01T12:00:00Z');
const IMAGE = { name: 'fw/board-a/1.2.0.bin', version: '1.2.0', hardwareIds: ['board-a'] };
const SALT = Buffer.from('5a'.repeat(16), 'hex');
// the bucket as docs/rollouts.md specifies it, computed independently of src/rollout/decide.ts
const bucketOf = (d: SimDevice): number => Number(BigInt(`0x${createHash('sha256').update(Buffer.from(d.enrollment.publicKey, 'hex')).update(SALT).digest('hex')}`) % 10000n);

describe('fleet rollout view and automatic halt', function () {
  this.timeout(30_000);
  let dir: string;
  let store: SqliteFleetStore;
  let pub: RolloutRepo;
  const boardA = Array.from({ length: 40 }, (_, i) => simDevice(100 + i, 'lab', 'board-a'));
  const boardB = Array.from({ length: 3 }, (_, i) => simDevice(200 + i, 'lab', 'board-b'));
  let seq = 0;
  const report = async (d: SimDevice, input: Partial<EventInput>): Promise<void> => {
    await ingestBatch(store, keyLookupFrom(await store.devices()), [{ raw: d.envelope(++seq, { image: { name: IMAGE.name, version: IMAGE.version }, ...input }), receivedAt: NOW }]);
  };
  const config = (over: Partial<RolloutsConfig> = {}): RolloutsConfig => ({ repository: pub.published, trustedRoot: pub.trustedRoot, checkSeconds: 60, failureThresholdPercent: 20, minSample: 4, ...over });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'es-fleet-rollouts-'));
    store = SqliteFleetStore.open(join(dir, 'fleet.db'));
    for (const d of [...boardA, ...boardB]) await store.enroll(d.enrollment, new Date(NOW.getTime() - 86_400_000));
    // 10 % from 2 h ago, 50 % from 1 h ago, 100 % tomorrow
    pub = await rolloutRepo(dir, IMAGE, { kind: 'steps', start: '2026-03-01T10:00:00Z', steps: [{ afterHours: 0, percent: 10 }, { afterHours: 1, percent: 50 }, { afterHours: 24, percent: 100 }] }, NOW);
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('counts each step’s cohort from the enrolled report keys with the device’s bucket, and installs, commits and failures among them', async () => {
    const cohort50 = boardA.filter((d) => bucketOf(d) < 5000);
    expect(cohort50.length, 'some, not all, of 40 devices at 50 %').to.be.within(8, 32);
    const [a, b, c, d] = cohort50;
    for (const x of [a, b, c, d]) await report(x, { type: 'install', verdict: 'ok' });
    for (const x of [a, b]) await report(x, { type: 'commit', verdict: 'ok' });
    await report(c, { type: 'rollback', verdict: 'refused', code: 'HEALTH_CHECK_FAILED' });
    await report(boardB[0], { type: 'install', verdict: 'ok', image: { name: 'fw/other.bin' } }); // another target: not counted

    const monitor = new RolloutMonitor({ config: config(), store, log: () => undefined });
    await monitor.refresh(NOW);
    const [r] = monitor.report(await loadSnapshot(store, new Map()), NOW).rollouts;
    expect(r).to.deep.include({ target: IMAGE.name, version: '1.2.0', halted: false, percentNow: 50, eligible: 40, installs: 4, failures: 1, failureRate: 0.25, overThreshold: true });
    expect(r.steps.map((s) => [s.percent, s.current, s.cohort])).to.deep.equal([
      [10, false, boardA.filter((x) => bucketOf(x) < 1000).length],
      [50, true, cohort50.length],
      [100, false, 40],
    ]);
    expect(r.steps[1]).to.deep.include({ installed: 4, committed: 2, from: '2026-03-01T11:00:00.000Z' });
    // the minimum sample holds a rate back until enough devices installed
    const patient = new RolloutMonitor({ config: config({ minSample: 5 }), store, log: () => undefined });
    await patient.refresh(NOW);
    expect(patient.report(await loadSnapshot(store, new Map()), NOW).rollouts[0].overThreshold).to.equal(false);
  });

  it('without the rollouts key: logs the alarm and exports edgeseal_fleet_rollout_failing 1, changes nothing', async () => {
    for (const x of boardA.slice(0, 5)) await report(x, { type: 'install', verdict: 'ok' });
    await report(boardA[0], { type: 'install', verdict: 'refused', code: 'INSTALL_FAILED' });
    await report(boardA[1], { type: 'rollback', verdict: 'refused', code: 'HEALTH_CHECK_FAILED' });
    const lines: string[] = [];
    const monitor = new RolloutMonitor({ config: config(), store, log: (_level, line) => lines.push(line) });
    const r = await monitor.check(NOW);
    expect(lines.join('\n')).to.contain(`ALARM [ROLLOUT_FAILING] ${IMAGE.name}: failure rate 40.0 % (2 of 5 installs) > 20 %`).and.contain('rollout-failing.md');
    expect(r.rollouts[0]).to.deep.include({ halted: false, overThreshold: true });
    expect(r.autoHalt).to.equal(false);
    const metrics = (await renderMetrics(await loadSnapshot(store, new Map()), NOW.getTime(), r)).body;
    expect(metrics).to.contain(`edgeseal_fleet_rollout_failing{target="${IMAGE.name}"} 1`).and.contain(`edgeseal_fleet_rollout_failure_ratio{target="${IMAGE.name}"} 0.4`);
    expect((await readRolloutSource(pub.published, pub.trustedRoot, NOW)).policy?.rollouts[IMAGE.name].halted).to.equal(undefined);
  });

  it('with the rollouts key: re-signs the policy halted (rollouts, snapshot, timestamp) into the repository and reports it', async () => {
    for (const x of boardA.slice(0, 5)) await report(x, { type: 'install', verdict: 'ok' });
    for (const x of boardA.slice(0, 2)) await report(x, { type: 'rollback', verdict: 'refused', code: 'HEALTH_CHECK_FAILED' });
    expect((await readdir(join(pub.workdir, 'keys'))).some((n) => n.startsWith('rollouts')), 'the workdir holds no rollouts key').to.equal(false);
    const before = await readRolloutSource(pub.published, pub.trustedRoot, NOW);
    const lines: string[] = [];
    const cfg = config({ halt: { workdir: pub.workdir, key: pub.rolloutKey } });
    const monitor = new RolloutMonitor({ config: cfg, store, halt: (t, at) => haltRollout(cfg, cfg.halt!, t, at), log: (level, line) => lines.push(`${level} ${line}`) });
    const r = await monitor.check(NOW);
    expect(lines).to.have.length(1);
    expect(lines[0]).to.match(/^info rollouts: HALTED fw\/board-a\/1\.2\.0\.bin automatically: failure rate 40\.0 % \(2 of 5 installs\) > 20 %; rollout policy v2, signed rollouts v2, snapshot v2, timestamp v2$/);
    const after = await readRolloutSource(pub.published, pub.trustedRoot, NOW);
    expect(after.policy?.rollouts[IMAGE.name]).to.deep.include({ halted: true, salt: before.policy?.rollouts[IMAGE.name].salt });
    expect(after.snapshotVersion).to.equal(before.snapshotVersion + 1);
    expect(r.rollouts[0]).to.deep.include({ halted: true, overThreshold: false });
    expect(r.halts).to.have.length(1);
    expect(r.halts[0]).to.deep.include({ target: IMAGE.name, ok: true, failures: 2, installs: 5 });
    const metrics = (await renderMetrics(await loadSnapshot(store, new Map()), NOW.getTime(), r)).body;
    expect(metrics).to.contain(`edgeseal_fleet_rollout_auto_halts_total{target="${IMAGE.name}",result="halted"} 1`).and.contain(`edgeseal_fleet_rollout_halted{target="${IMAGE.name}"} 1`).and.contain(`edgeseal_fleet_rollout_failing{target="${IMAGE.name}"} 0`);
    // halted: the next check does nothing more
    await monitor.check(NOW);
    expect(lines).to.have.length(1);
  });

  it('a halt that cannot be signed is reported (log, dashboard) and the rollout stays failing for the alert', async () => {
    for (const x of boardA.slice(0, 5)) await report(x, { type: 'rollback', verdict: 'refused', code: 'HEALTH_CHECK_FAILED' });
    const cfg = config({ halt: { workdir: pub.workdir, key: pub.trustedRoot } }); // not a key
    const lines: string[] = [];
    const monitor = new RolloutMonitor({ config: cfg, store, halt: (t, at) => haltRollout(cfg, cfg.halt!, t, at), log: (_l, line) => lines.push(line) });
    const r = await monitor.check(NOW);
    expect(lines.join('\n')).to.contain('automatic halt failed: [KEY_INVALID]');
    expect(r.halts[0]).to.deep.include({ ok: false });
    expect(r.rollouts[0]).to.deep.include({ halted: false, overThreshold: true });
  });

  it('refuses to halt from a workdir behind the published repository (devices would refuse it as a rollback)', async () => {
    for (const x of boardA.slice(0, 5)) await report(x, { type: 'rollback', verdict: 'refused', code: 'HEALTH_CHECK_FAILED' });
    const stale = join(dir, 'work-stale');
    await cp(pub.workdir, stale, { recursive: true });
    const repo = await loadWorkdir(pub.workdir);
    repo.markDirty('timestamp');
    await signAndWrite(pub.workdir, pub.published, repo, NOW, 'test'); // published moves on without the stale copy
    const cfg = config({ halt: { workdir: stale, key: pub.rolloutKey } });
    const lines: string[] = [];
    const monitor = new RolloutMonitor({ config: cfg, store, halt: (t, at) => haltRollout(cfg, cfg.halt!, t, at), log: (_l, line) => lines.push(line) });
    const r = await monitor.check(NOW);
    expect(lines.join('\n')).to.contain('automatic halt failed: [ROLLBACK]').and.contain('timestamp v2), found timestamp v1');
    expect(r.rollouts[0]).to.deep.include({ halted: false, overThreshold: true });
  });

  it('halts with a rollouts key behind a signer reference (an external signer command)', async () => {
    const command: CommandRef = { kind: 'command', argv: [process.execPath, EXTERNAL_SIGNER, await signerKey(dir, 'p256')] };
    const ref = makeSignerRef(command, commandPublicKey(command));
    const held = await rolloutRepo(join(dir, 'cmd'), IMAGE, { kind: 'percent', percent: 100 }, NOW, ref);
    for (const x of boardA.slice(0, 5)) await report(x, { type: 'rollback', verdict: 'refused', code: 'HEALTH_CHECK_FAILED' });
    const cfg = config({ repository: held.published, trustedRoot: held.trustedRoot, halt: { workdir: held.workdir, key: held.rolloutKey } });
    const monitor = new RolloutMonitor({ config: cfg, store, halt: (t, at) => haltRollout(cfg, cfg.halt!, t, at), log: () => undefined });
    const r = await monitor.check(NOW);
    expect(r.halts.map((h) => [h.ok, h.result])).to.deep.equal([[true, 'rollout policy v2; signed rollouts v2, snapshot v2, timestamp v2']]);
    expect((await readRolloutSource(held.published, held.trustedRoot, NOW)).policy?.rollouts[IMAGE.name].halted).to.equal(true);
  });
});
