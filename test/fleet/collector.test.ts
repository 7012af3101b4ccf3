import { expect } from 'chai';
import mqtt from 'mqtt';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Collector } from '../../src/fleet/collector/collector.js';
import { collectorKeyFromSeed } from '../../src/fleet/collector/collector-key.js';
import type { CollectorConfig } from '../../src/fleet/collector/config.js';
import { PgFleetStore } from '../../src/fleet/store/pg-store.js';
import { SqliteFleetStore } from '../../src/fleet/store/sqlite-store.js';
import type { FleetStore } from '../../src/fleet/store/port.js';
import { signAckMark } from '../../src/telemetry/ack-mark.js';
import { createEventSigner } from '../../src/telemetry/envelope.js';
import { startTelemetry, type TelemetryService } from '../../src/telemetry/service.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { startPostgres } from '../helpers/postgres.js';
import { until } from './until.js';

const seed = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
const signer = createEventSigner(seed);
const key = collectorKeyFromSeed(new Uint8Array(32).fill(9));
const deviceId = 'board-a-1';
const verdict = (i: number) => ({ type: 'boot-verification' as const, verdict: 'ok' as const, image: { name: `fw-${i}.bin` }, latencyMs: i });

// The same scenarios against each store adapter: a real SQLite file and a real PostgreSQL server.
const adapters: { name: string; setup(): Promise<{ open(dir: string): Promise<FleetStore>; stop(): Promise<void> }> }[] = [
  { name: 'SQLite', setup: () => Promise.resolve({ open: (dir) => Promise.resolve(SqliteFleetStore.open(join(dir, 'fleet.db'))), stop: () => Promise.resolve() }) },
  {
    name: 'PostgreSQL',
    async setup() {
      const pg = await startPostgres();
      let n = 0;
      return { open: async () => PgFleetStore.open(await pg.createDatabase(`collector_${++n}`)), stop: () => pg.stop() };
    },
  },
];

for (const adapter of adapters) describe(`fleet collector against a real mosquitto (signed events, ${adapter.name} store)`, function () {
  this.timeout(60_000);
  let engine: Awaited<ReturnType<(typeof adapter)['setup']>>;
  before(async () => (engine = await adapter.setup()));
  after(async () => engine.stop());
  let broker: Mosquitto;
  let dir: string;
  let store: FleetStore;
  const cleanup: (() => Promise<unknown>)[] = [];

  const config = (): CollectorConfig => ({ db: '', broker: { url: broker.url }, prefix: 'edgeseal', fleets: ['lab'], clientId: 'collector-1', sessionExpirySeconds: 3600, collectorKey: '', retention: {}, http: { host: '127.0.0.1', port: 0 } });
  const collector = async (): Promise<Collector> => {
    const c = new Collector({ config: config(), store, key });
    await c.start();
    return c;
  };
  const device = async (ack: 'collector' | 'broker'): Promise<TelemetryService> => {
    const svc = await startTelemetry(
      { deviceId, fleet: 'lab', broker: { url: broker.url }, stateDir: await mkdtemp(join(dir, 'dev-')), metricsCron: null, ...(ack === 'collector' ? { collectorKey: key.publicKey } : {}) },
      { seed, backoff: { baseMs: 50, maxMs: 400 } },
    );
    cleanup.push(() => svc.stop());
    return svc;
  };
  const ranges = () => store.storedRanges('lab', deviceId, signer.keyid, 64);

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'es-collector-'));
    broker = await startMosquitto();
    store = await engine.open(dir);
    await store.enroll({ fleet: 'lab', deviceId, hardwareId: 'board-a', publicKey: Buffer.from(signer.publicKey).toString('hex'), keyId: signer.keyid }, new Date());
  });
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
    await broker.stop();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('loses nothing while the collector is stopped for part of the stream: audit completeness 100 %', async () => {
    const first = await collector();
    const svc = await device('collector');
    for (let i = 1; i <= 10; i++) await svc.reporter.record(verdict(i));
    await until('10 stored and the outbox emptied by the marks', async () => (await store.countEvents()) === 10 && svc.outbox.stats(0).depth === 0);
    await first.stop();
    for (let i = 11; i <= 30; i++) await svc.reporter.record(verdict(i));
    await until('20 more queued', () => svc.outbox.stats(0).depth === 20);
    // Still in the outbox: only the collector's mark may free them.
    expect(svc.outbox.pending().map((e) => e.seq)).to.deep.equal(Array.from({ length: 20 }, (_, i) => i + 11));
    const second = await collector();
    cleanup.push(() => second.stop());
    await until('all 30 stored and acknowledged', async () => (await store.countEvents()) === 30 && svc.outbox.stats(0).depth === 0);
    expect(await ranges()).to.deep.equal([[1, 30]]);
    expect(await store.rejectedCounts()).to.deep.equal({});
    // the device's retained status, kept apart from signed facts
    expect(second.statuses.get(`lab/${deviceId}`)?.state).to.equal('online');
  });

  it('re-sends what the broker never delivered (published before any collector session existed)', async () => {
    const svc = await device('collector');
    for (let i = 1; i <= 5; i++) await svc.reporter.record(verdict(i));
    await until('broker PUBACKs for 1-5', () => svc.publisher?.state === 'connected' && svc.outbox.pending().length === 5);
    await new Promise((r) => setTimeout(r, 200)); // no subscriber: mosquitto discards them
    const c = await collector();
    cleanup.push(() => c.stop());
    await svc.reporter.record(verdict(6));
    await until('1-6 stored', async () => (await store.countEvents()) === 6 && svc.outbox.stats(0).depth === 0);
    expect(await ranges()).to.deep.equal([[1, 6]]);
  });

  it('in broker-ack mode (the old default) the same events are gone: the reason for telemetry.ack "collector"', async () => {
    const svc = await device('broker');
    for (let i = 1; i <= 5; i++) await svc.reporter.record(verdict(i));
    await until('outbox emptied on the broker PUBACK', () => svc.outbox.stats(0).depth === 0);
    const c = await collector();
    cleanup.push(() => c.stop());
    await svc.reporter.record(verdict(6));
    await until('6 stored', async () => (await store.countEvents()) === 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(await ranges()).to.deep.equal([[6, 6]]);
  });

  it('ignores an ack mark not signed by the collector key: the outbox keeps the events', async () => {
    const svc = await device('collector');
    for (let i = 1; i <= 3; i++) await svc.reporter.record(verdict(i));
    await until('broker PUBACKs', () => svc.publisher?.state === 'connected' && svc.outbox.pending().length === 3);
    const forger = collectorKeyFromSeed(new Uint8Array(32).fill(3));
    const fake = signAckMark({ fleet: 'lab', deviceId, keyId: signer.keyid, ranges: [[1, 3]], time: new Date().toISOString() }, forger);
    const intruder = await mqtt.connectAsync(broker.url);
    await intruder.publishAsync(`edgeseal/lab/${deviceId}/ack`, JSON.stringify(fake), { qos: 1, retain: true });
    await intruder.endAsync();
    await new Promise((r) => setTimeout(r, 300));
    expect(svc.outbox.pending().map((e) => e.seq)).to.deep.equal([1, 2, 3]);
  });
});
