import { expect } from 'chai';
import mqtt from 'mqtt';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Collector } from '../../src/fleet/collector/collector.js';
import { collectorKeyFromSeed } from '../../src/fleet/collector/collector-key.js';
import { SqliteFleetStore } from '../../src/fleet/store/sqlite-store.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { simDevice } from './fleet-fixtures.js';
import { until } from './until.js';

// Measures what mosquitto does with an MQTT 5 shared subscription when one member goes away with its
// session kept: it goes on queueing that member's share instead of handing it to the live member.
// So several collectors on a $share group split load; they are not failover (docs/fleet/README.md).
describe('two collectors on one MQTT 5 shared subscription (real mosquitto)', function () {
  this.timeout(60_000);
  let broker: Mosquitto;
  let dir: string;
  before(async () => {
    broker = await startMosquitto();
    dir = await mkdtemp(join(tmpdir(), 'es-share-'));
  });
  after(async () => {
    await broker.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('splits the stream; while one member is away its share waits for it, and nothing is lost when it returns', async () => {
    const store = SqliteFleetStore.open(join(dir, 'fleet.db'));
    const d = simDevice(1, 'lab');
    await store.enroll(d.enrollment, new Date());
    const collector = (clientId: string): Collector =>
      new Collector({ store, key: collectorKeyFromSeed(new Uint8Array(32).fill(2)), config: { db: '', broker: { url: broker.url }, prefix: 'edgeseal', fleets: ['lab'], clientId, sessionExpirySeconds: 600, collectorKey: '', retention: {}, http: { host: '127.0.0.1', port: 0 }, shareGroup: 'g' } });
    const [a, b] = [collector('share-a'), collector('share-b')];
    await a.start();
    await b.start();
    const dev = await mqtt.connectAsync(broker.url);
    const publish = async (from: number, to: number): Promise<void> => {
      for (let s = from; s <= to; s++) await dev.publishAsync(`edgeseal/lab/${d.enrollment.deviceId}/event`, d.envelope(s), { qos: 1 });
    };
    try {
      await publish(1, 20);
      await until('20 stored', async () => (await store.countEvents()) === 20);
      expect(a.stats.stored, 'both members took a share').to.be.greaterThan(0);
      expect(b.stats.stored).to.be.greaterThan(0);
      await a.stop();
      await publish(21, 40);
      await until('b idle', async () => { const n = await store.countEvents(); await new Promise((r) => setTimeout(r, 500)); return n === (await store.countEvents()); });
      const whileAway = await store.countEvents();
      expect(whileAway, 'a share of 21-40 is held for the absent member').to.be.lessThan(40);
      const back = collector('share-a');
      await back.start();
      await until('all 40 stored after it returns', async () => (await store.countEvents()) === 40);
      expect(await store.storedRanges('lab', d.enrollment.deviceId, d.signer.keyid, 10)).to.deep.equal([[1, 40]]);
      await back.stop();
    } finally {
      await dev.endAsync();
      await b.stop();
      await store.close();
    }
  });
});
