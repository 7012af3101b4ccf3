import mqtt from 'mqtt';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Collector } from '../src/fleet/collector/collector.js';
import { collectorKeyFromSeed } from '../src/fleet/collector/collector-key.js';
import { SqliteFleetStore } from '../src/fleet/store/sqlite-store.js';
import { createEventSigner, encodeEnvelope } from '../src/telemetry/envelope.js';
import { buildEvent } from '../src/telemetry/event.js';
import { percentile } from '../src/telemetry/metrics.js';
import { startMosquitto } from '../test/helpers/mosquitto.js';
import type { Bench, BenchResult } from './measure.js';

// Load generator: N simulated devices with real report keys; events are pre-signed (the generator's
// signing cost is not the collector's), published through a real mosquitto into the collector
// (SQLite, every signature verified, one commit per message before its PUBACK). Sized by
// EDGESEAL_FLEET_DEVICES / EDGESEAL_FLEET_EVENTS (defaults are small: the CI machine is shared).
const DEVICES = Number(process.env.EDGESEAL_FLEET_DEVICES ?? 20);
const EVENTS = Number(process.env.EDGESEAL_FLEET_EVENTS ?? 50);

export const fleetLoadBench: Bench = {
  name: `fleet collector load (${DEVICES} devices × ${EVENTS} events, SQLite, real mosquitto)`,
  async run(): Promise<BenchResult[]> {
    const dir = await mkdtemp(join(tmpdir(), 'edgeseal-bench-fleet-'));
    const broker = await startMosquitto({ extra: ['max_queued_messages 0'] });
    const store = SqliteFleetStore.open(join(dir, 'fleet.db'));
    const devices = Array.from({ length: DEVICES }, (_, i) => {
      const signer = createEventSigner(Uint8Array.from({ length: 32 }, (_, j) => (i * 13 + j) & 0xff));
      return { signer, deviceId: `dev-${i}` };
    });
    for (const d of devices) await store.enroll({ fleet: 'load', deviceId: d.deviceId, hardwareId: 'hw', publicKey: Buffer.from(d.signer.publicKey).toString('hex'), keyId: d.signer.keyid }, new Date());
    const messages = devices.flatMap((d) => Array.from({ length: EVENTS }, (_, s) => ({
      topic: `edgeseal/load/${d.deviceId}/event`,
      payload: Buffer.from(encodeEnvelope(d.signer.sign(buildEvent({ type: 'boot-verification', verdict: 'ok', latencyMs: 40 }, { deviceId: d.deviceId, fleet: 'load', seq: s + 1, now: new Date() })))),
      key: `${d.deviceId}#${s + 1}`,
    })));
    const collector = new Collector({ store, key: collectorKeyFromSeed(new Uint8Array(32).fill(1)), config: { db: '', broker: { url: broker.url }, prefix: 'edgeseal', fleets: ['load'], clientId: 'bench-collector', sessionExpirySeconds: 600, collectorKey: '', retention: {}, http: { host: '127.0.0.1', port: 0 } } });
    await collector.start();
    const publisher = await mqtt.connectAsync(broker.url);
    const sentAt = new Map<string, number>();
    const cpu0 = process.cpuUsage();
    const t0 = Date.now();
    await Promise.all(messages.map((m) => (sentAt.set(m.key, Date.now()), publisher.publishAsync(m.topic, m.payload, { qos: 1 }))));
    while ((await store.countEvents()) < messages.length) await new Promise((r) => setTimeout(r, 50));
    const elapsedMs = Date.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const latencies = (await store.events({}, messages.length)).map((e) => Date.parse(e.receivedAt) - (sentAt.get(`${e.deviceId}#${e.seq}`) ?? 0)).sort((a, b) => a - b);
    const rssMb = process.memoryUsage().rss / 1e6;
    await publisher.endAsync();
    await collector.stop();
    await store.close();
    await broker.stop();
    await rm(dir, { recursive: true, force: true });
    const rate = (messages.length * 1000) / elapsedMs;
    return [{
      op: 'publish → verified and stored',
      iterations: messages.length,
      medianMs: percentile(latencies, 50) ?? 0,
      p95Ms: percentile(latencies, 99) ?? 0,
      note: `(p95 column is p99) ${rate.toFixed(0)} events/s; generator+collector CPU ${((cpu.user + cpu.system) / 1000 / elapsedMs * 100).toFixed(0)} % of one core; RSS ${rssMb.toFixed(0)} MB (one process)`,
    }];
  },
};
