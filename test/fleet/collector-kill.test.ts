import { expect } from 'chai';
import mqtt, { type MqttClient } from 'mqtt';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { DatabaseSync } from 'node:sqlite';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { auditCompleteness } from '../../src/fleet/sli.js';
import { SqliteFleetStore } from '../../src/fleet/store/sqlite-store.js';
import type { TelemetryEvent } from '../../src/telemetry/event.js';
import { startCli, type Finished } from '../agent/cli-child.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { simDevice, type SimDevice } from './fleet-fixtures.js';
import { until } from './until.js';

const SESSIONS = 4;

// `edgeseal fleet serve` as a real child process with SESSIONS MQTT sessions and one group commit,
// SIGKILLed the way a crash or the OOM killer would: the PUBACK of an event goes to the broker only
// after the commit that holds it, so whatever was received and not committed is delivered again.
describe('fleet serve killed between receive and commit (real CLI, real mosquitto, SQLite)', function () {
  this.timeout(90_000);
  let broker: Mosquitto;
  let dir: string;
  let db: string;
  let store: SqliteFleetStore;
  let devices: SimDevice[];
  let publisher: MqttClient;
  beforeEach(async () => {
    broker = await startMosquitto({ extra: ['max_queued_messages 0'] });
    dir = await mkdtemp(join(tmpdir(), 'es-kill-'));
    db = join(dir, 'fleet.db');
    store = SqliteFleetStore.open(db);
    devices = [1, 2, 3].map((n) => simDevice(n));
    for (const d of devices) await store.enroll(d.enrollment, new Date());
    await writeFile(join(dir, 'collector.key'), `${'33'.repeat(32)}\n`, { mode: 0o600 });
    await writeFile(join(dir, 'fleet.json'), JSON.stringify({ db, broker: { url: broker.url }, fleets: ['f1'], clientId: 'kill-c', collectorKey: join(dir, 'collector.key'), http: { port: 0 }, sessions: SESSIONS }));
    publisher = await mqtt.connectAsync(broker.url);
  });
  afterEach(async () => {
    await publisher.endAsync();
    await store.close();
    await broker.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const serve = async (): Promise<{ kill(signal: NodeJS.Signals): Promise<Finished> }> => {
    const { child, done } = startCli(['fleet', 'serve', '--config', join(dir, 'fleet.json')]);
    let out = '';
    child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
    await until('the collector is up', () => out.includes('dashboard '));
    return { kill: (signal) => (child.kill(signal), done) };
  };
  const publish = (d: SimDevice, seq: number) => publisher.publishAsync(`edgeseal/f1/${d.enrollment.deviceId}/event`, d.envelope(seq), { qos: 1 });
  const brokerLog = async (pattern: RegExp): Promise<number> => (await readFile(broker.log, 'utf8')).split('\n').filter((l) => pattern.test(l)).length;
  const audit = async () => {
    const rows = await store.events({}, 10_000);
    const sli = auditCompleteness(rows.map((e) => ({ fleet: e.fleet, hardwareId: 'hw-a', deviceId: e.deviceId, keyId: e.keyId, receivedAt: Date.parse(e.receivedAt), event: (JSON.parse(e.raw) as { event: TelemetryEvent }).event })));
    return { stored: rows.length, ratio: sli.ratio, ranges: await Promise.all(devices.map((d) => store.storedRanges('f1', d.enrollment.deviceId, d.signer.keyid, 10))) };
  };

  it('sends no PUBACK while the commit is held; killed then, the broker delivers again and each event is stored once', async () => {
    const first = await serve();
    const lock = new DatabaseSync(db);
    lock.exec('BEGIN IMMEDIATE'); // holds the write lock: the collector's commit cannot happen
    try {
      for (const d of devices) for (let s = 1; s <= 4; s++) await publish(d, s);
      // Receive Maximum 2 per session: the broker hands out 2 unacknowledged events per session, no more
      // (a deeper backlog in the client would hold its PINGRESP until the keepalive times out).
      await until('the broker handed 2 events to each session', async () => (await brokerLog(/Sending PUBLISH to kill-c.* q1.*\/event'/)) >= 2 * SESSIONS);
      expect(await brokerLog(/Received PUBACK from kill-c(-\d+)? /), 'no PUBACK before the commit').to.equal(0);
      const killed = await first.kill('SIGKILL');
      expect(await brokerLog(/Sending PUBLISH to kill-c.* q1.*\/event'/), 'at most Receive Maximum in flight per session').to.equal(2 * SESSIONS);
      expect(killed.signal).to.equal('SIGKILL');
    } finally {
      lock.exec('ROLLBACK');
      lock.close();
    }
    expect(await store.countEvents()).to.equal(0);
    const second = await serve();
    await until('all 12 stored after the restart', async () => (await store.countEvents()) === 12);
    const stopped = await second.kill('SIGTERM');
    expect(stopped.out).to.include('stopped: 12 stored, 0 duplicates, 0 rejected, 0 conflicts');
    expect(await brokerLog(/Sending PUBLISH to kill-c.* \(d1, q1.*\/event'/), 'the broker re-sent them as duplicates (DUP flag)').to.be.greaterThan(0);
    expect(await brokerLog(/Received PUBACK from kill-c(-\d+)? /), 'the PUBACKs came after the commit').to.be.at.least(12);
    expect(await audit()).to.deep.equal({ stored: 12, ratio: 1, ranges: devices.map(() => [[1, 4]]) });
  });

  it('killed while devices keep publishing and restarted: every event is stored once, audit completeness 100 %', async () => {
    const perDevice = 100;
    let published = 0;
    const first = await serve(); // its sessions must exist before the devices publish
    const stream = (async () => {
      for (let s = 1; s <= perDevice; s++) {
        await Promise.all(devices.map((d) => publish(d, s)));
        published += devices.length;
      }
    })();
    await until('some stored under load', async () => (await store.countEvents()) >= 60);
    await first.kill('SIGKILL');
    const atKill = published;
    await until('the devices published on while the collector was down', () => published >= atKill + 60 || published === perDevice * devices.length);
    const second = await serve();
    await stream;
    await until('all 300 stored', async () => (await store.countEvents()) === perDevice * devices.length);
    const stopped = await second.kill('SIGTERM');
    expect(stopped.code).to.equal(0);
    expect(await audit()).to.deep.equal({ stored: 300, ratio: 1, ranges: devices.map(() => [[1, perDevice]]) });
  });
});
