import { expect } from 'chai';
import mqtt, { type MqttClient } from 'mqtt';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Collector } from '../../src/fleet/collector/collector.js';
import { collectorKeyFromSeed } from '../../src/fleet/collector/collector-key.js';
import { SqliteFleetStore } from '../../src/fleet/store/sqlite-store.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { simDevice } from './fleet-fixtures.js';
import { until } from './until.js';

const docs = (name: string): Promise<string> => readFile(new URL(`../../../docs/fleet/${name}`, import.meta.url), 'utf8');
// Settings the helper owns (listener, TLS files, auth and persistence paths) are left out of the shipped file.
const OWNED = /^(listener|cafile|certfile|keyfile|password_file|acl_file|allow_anonymous|persistence|persistence_location|per_listener_settings)\b/;

describe('docs/fleet mosquitto.conf + edgeseal.acl on a real mosquitto', function () {
  this.timeout(30_000);
  const a = simDevice(1, 'lab');
  const b = simDevice(2, 'lab');
  const [userA, userB] = [a.enrollment.deviceId, b.enrollment.deviceId];
  let broker: Mosquitto;
  let dir: string;
  const clients: MqttClient[] = [];
  const connect = async (username: string, v: 4 | 5 = 5): Promise<MqttClient> => {
    const c = await mqtt.connectAsync(broker.url, { username, password: 'pw', protocolVersion: v, reconnectPeriod: 0 });
    clients.push(c);
    return c;
  };

  before(async () => {
    const extra = (await docs('mosquitto.conf')).split('\n').filter((l) => l.trim() && !l.startsWith('#') && !OWNED.test(l));
    broker = await startMosquitto({ users: { collector: 'pw', [userA]: 'pw', [userB]: 'pw' }, acl: await docs('edgeseal.acl'), extra });
    dir = await mkdtemp(join(tmpdir(), 'es-acl-'));
  });
  after(async () => {
    for (const c of clients) await c.endAsync(true);
    await broker.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('applies the shipped queue and size limits (mosquitto accepted the file)', async () => {
    const log = await readFile(broker.log, 'utf8');
    expect(log).to.not.match(/Error|Unknown configuration/i);
  });

  it('delivers nothing a device publishes under another device, refusing it with 0x87 on MQTT 5', async () => {
    const store = SqliteFleetStore.open(join(dir, 'fleet.db'));
    for (const d of [a, b]) await store.enroll(d.enrollment, new Date());
    const collector = new Collector({ store, key: collectorKeyFromSeed(new Uint8Array(32).fill(5)), config: { db: '', broker: { url: broker.url, username: 'collector', password: 'pw' }, prefix: 'edgeseal', fleets: ['lab'], clientId: 'collector-acl', sessionExpirySeconds: 600, collectorKey: '', retention: {}, http: { host: '127.0.0.1', port: 0 } } });
    await collector.start();
    try {
      const devA = await connect(userA);
      // MQTT 5: the broker answers the QoS 1 publish with PUBACK reason 0x87 (not authorized).
      const denied = await devA.publishAsync(`edgeseal/lab/${userB}/event`, b.envelope(1), { qos: 1 }).then(() => 'delivered', (err: Error & { code?: number }) => err.code);
      expect(denied).to.equal(0x87);
      // MQTT 3.1.1 has no reason code: the denied publish is acknowledged and silently dropped.
      const old = await connect(userA, 4);
      await old.publishAsync(`edgeseal/lab/${userB}/event`, b.envelope(2), { qos: 1 });
      // A device may not write its own (or anyone's) ack mark.
      const ack = await devA.publishAsync(`edgeseal/lab/${userA}/ack`, '{}', { qos: 1 }).then(() => 'delivered', (err: Error & { code?: number }) => err.code);
      expect(ack).to.equal(0x87);
      // What gets through on its own topic is checked anyway: another device's event is refused for its
      // topic, an altered one of its own by the signature check.
      await devA.publishAsync(`edgeseal/lab/${userA}/event`, b.envelope(3), { qos: 1 });
      await devA.publishAsync(`edgeseal/lab/${userA}/event`, a.envelope(2).replace('"update-check"', '"install"'), { qos: 1 });
      await devA.publishAsync(`edgeseal/lab/${userA}/event`, a.envelope(1), { qos: 1 });
      await until('1 verified, 2 rejected', async () => (await store.countEvents()) === 1 && Object.keys(await store.rejectedCounts()).length === 2);
      // b #1 and b #2 (the denied publishes) never reached the collector, not even as rejected events.
      expect((await store.events({}, 10)).map((e) => [e.deviceId, e.seq])).to.deep.equal([[userA, 1]]);
      expect(await store.rejectedCounts()).to.deep.equal({ EVENT_INVALID: 1, SIGNATURE_INVALID: 1 });
    } finally {
      await collector.stop();
      await store.close();
    }
  });
});
