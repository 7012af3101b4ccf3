import { expect } from 'chai';
import mqtt from 'mqtt';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectorKeyFromSeed } from '../../src/fleet/collector/collector-key.js';
import { SqliteFleetStore } from '../../src/fleet/store/sqlite-store.js';
import { startTelemetry } from '../../src/telemetry/service.js';
import { startCli } from '../agent/cli-child.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { seedOf, simDevice } from './fleet-fixtures.js';
import { rolloutRepo } from './rollout-repo.js';
import { until } from './until.js';

describe('edgeseal fleet serve (real CLI, real mosquitto, SQLite)', function () {
  this.timeout(60_000);
  let broker: Mosquitto;
  let dir: string;
  before(async () => {
    broker = await startMosquitto();
    dir = await mkdtemp(join(tmpdir(), 'es-serve-'));
  });
  after(async () => {
    await broker.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('stores a device\'s signed events, acknowledges them with its key, and reports counts on SIGTERM', async () => {
    const seedHex = '11'.repeat(32);
    await writeFile(join(dir, 'collector.key'), `${seedHex}\n`, { mode: 0o600 });
    const db = join(dir, 'fleet.db');
    await writeFile(join(dir, 'fleet.json'), JSON.stringify({ db, broker: { url: broker.url }, fleets: ['f1'], clientId: 'collector-cli', collectorKey: join(dir, 'collector.key'), http: { port: 0 } }));
    const d = simDevice(4);
    const store = SqliteFleetStore.open(db);
    await store.enroll(d.enrollment, new Date());
    const { child, done } = startCli(['fleet', 'serve', '--config', join(dir, 'fleet.json')]);
    let out = '';
    child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
    const key = collectorKeyFromSeed(Buffer.from(seedHex, 'hex'));
    await until('the collector line', () => out.includes(`collector key ${key.publicHex}`));
    const svc = await startTelemetry({ deviceId: d.enrollment.deviceId, fleet: 'f1', broker: { url: broker.url }, stateDir: join(dir, 'dev'), metricsCron: null, collectorKey: key.publicKey }, { seed: seedOf(4) });
    for (let i = 0; i < 5; i++) await svc.reporter.record({ type: 'update-check', verdict: 'ok' });
    await until('5 stored and acknowledged', async () => (await store.countEvents()) === 5 && svc.outbox.stats(0).depth === 0);
    await svc.stop();
    child.kill('SIGTERM');
    const r = await done;
    expect([r.code, r.err]).to.deep.equal([0, '']);
    expect(r.out).to.include('stopped: 5 stored, 0 duplicates, 0 rejected, 0 conflicts');
    await store.close();
  });

  it('with a rollouts section: reads the policy from the repository at start and serves the rollout view', async () => {
    await writeFile(join(dir, 'collector.key'), `${'22'.repeat(32)}\n`, { mode: 0o600 });
    const pub = await rolloutRepo(join(dir, 'rollouts'), { name: 'fw/a.bin', version: '2.0.0', hardwareIds: ['hw-a'] }, { kind: 'percent', percent: 25 }, new Date());
    const rollouts = { repository: pub.published, trustedRoot: pub.trustedRoot };
    await writeFile(join(dir, 'fleet-rollouts.json'), JSON.stringify({ db: join(dir, 'fleet-rollouts.db'), broker: { url: broker.url }, fleets: ['f1'], clientId: 'collector-rollouts', collectorKey: join(dir, 'collector.key'), http: { port: 0 }, rollouts }));
    // a retained status the collector shows once its subscription is live (stopping it earlier races mqtt.js)
    const probe = simDevice(5, 'f1');
    const store = SqliteFleetStore.open(join(dir, 'fleet-rollouts.db'));
    await store.enroll(probe.enrollment, new Date());
    await store.close();
    const mq = await mqtt.connectAsync(broker.url);
    await mq.publishAsync(`edgeseal/f1/${probe.enrollment.deviceId}/status`, JSON.stringify({ state: 'online' }), { qos: 1, retain: true });
    await mq.endAsync();
    const { child, done } = startCli(['fleet', 'serve', '--config', join(dir, 'fleet-rollouts.json')]);
    let out = '';
    child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
    type View = { configured: boolean; policyVersion: number | null; rollouts: { target: string; percentNow: number }[] };
    let view: View | undefined;
    try {
      await until('the dashboard line', () => /dashboard (http:\/\/\S+)\//.test(out), 40_000);
      const url = /dashboard (http:\/\/\S+)\//.exec(out)![1];
      // the first check runs after the dashboard is up
      await until('the policy read', async () => (view = (await (await fetch(`${url}/api/rollouts`)).json()) as View).policyVersion !== null, 40_000);
      await until('the subscription', async () => ((await (await fetch(`${url}/api/inventory`)).json()) as { online: unknown }[])[0]?.online != null, 40_000);
    } finally {
      child.kill('SIGTERM'); // a failed wait must not leave the collector running (mocha would wait for it)
    }
    const r = await done;
    expect([r.code, r.err]).to.deep.equal([0, '']);
    expect(out).to.include(`rollouts from ${pub.published}: alert only (no rollouts key)`);
    expect(view).to.deep.include({ configured: true, policyVersion: 1 });
    expect(view?.rollouts.map((x) => [x.target, x.percentNow])).to.deep.equal([['fw/a.bin', 25]]);
  });
});
