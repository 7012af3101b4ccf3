import { loadavg } from 'node:os';
import { auditCompleteness, type SliRow } from '../src/fleet/sli.js';
import type { FleetStore } from '../src/fleet/store/port.js';
import type { TelemetryEvent } from '../src/telemetry/event.js';
import { percentile } from '../src/telemetry/metrics.js';
import { FLEET, LoadGenerator } from './fleet-load/generator.js';
import { CpuMeter, cpuMs, peakRssMb } from './fleet-load/proc.js';
import { Rig, type RigOptions } from './fleet-load/rig.js';
import type { Bench, BenchResult } from './measure.js';

// Load: N simulated devices (real report keys, events pre-signed) publish at an offered rate through a
// real mosquitto into `edgeseal fleet serve` child processes that verify every signature and commit
// before each PUBACK. One run reports SQLite, PostgreSQL (fsync on), two collectors on one shared
// subscription, and the collector SIGKILLed for KILL_S seconds under load. BENCH_QUICK=1 shrinks it;
// EDGESEAL_FLEET_ROWS=sqlite,pg,pg2,kill picks rows.
const QUICK = process.env.BENCH_QUICK === '1';
const env = (name: string, full: number, quick: number): number => Number(process.env[name] ?? (QUICK ? quick : full));
const DEVICES = env('EDGESEAL_FLEET_DEVICES', 200, 100);
const EVENTS = env('EDGESEAL_FLEET_EVENTS', 100, 50);
const RATE = env('EDGESEAL_FLEET_RATE', 8000, 8000); // offered; above the 5,000/s goal so the collector is the limit
const SESSIONS = env('EDGESEAL_FLEET_SESSIONS', 128, 128);
const KILL_S = env('EDGESEAL_FLEET_KILL_S', 30, 5);
const KILL_RATE = env('EDGESEAL_FLEET_KILL_RATE', 500, 200);
const DRAIN_TIMEOUT_MS = 120_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function untilStored(store: FleetStore, total: number): Promise<number> {
  const deadline = performance.now() + DRAIN_TIMEOUT_MS;
  for (;;) {
    if ((await store.countEvents()) >= total) return performance.now();
    if (performance.now() > deadline) throw new Error(`fleet load: expected ${total} events stored within ${DRAIN_TIMEOUT_MS} ms, found ${await store.countEvents()}`);
    await sleep(50);
  }
}

// The audit-completeness SLI over everything stored, and whether every published event is there.
async function audit(store: FleetStore, gen: LoadGenerator): Promise<string> {
  const rows = await store.events({ fleet: FLEET }, gen.total + 1);
  const sli = auditCompleteness(rows.map((e): SliRow => ({ fleet: e.fleet, hardwareId: 'hw-load', deviceId: e.deviceId, keyId: e.keyId, receivedAt: Date.parse(e.receivedAt), event: (JSON.parse(e.raw) as { event: TelemetryEvent }).event })));
  return `stored ${rows.length} of ${gen.total} published, audit completeness ${((sli.ratio ?? 0) * 100).toFixed(2)} %`;
}

async function throughput(label: string, opts: RigOptions): Promise<BenchResult> {
  const gen = new LoadGenerator(DEVICES, EVENTS);
  const rig = await Rig.start(opts, gen);
  await gen.connect(rig.broker.url);
  const collectorPids = rig.children.map((c) => c?.pid ?? 0);
  const meter = new CpuMeter(async () => {
    const cpu = process.cpuUsage();
    const out: Record<string, number> = { generator: (cpu.user + cpu.system) / 1000, broker: await cpuMs(rig.broker.pid() ?? 0), collector: 0 };
    for (const pid of collectorPids) out.collector = (out.collector ?? 0) + (await cpuMs(pid));
    if (rig.pg) out.postgres = await cpuMs(await rig.pg.pid(), true);
    return out;
  });
  await meter.start();
  const t0 = performance.now();
  const published = gen.run(RATE);
  const storedAt = await untilStored(rig.store, gen.total);
  await published;
  const elapsedS = (storedAt - t0) / 1000;
  const cpu = await meter.take();
  for (let i = 0; i < 40 && gen.latencies.length < gen.total; i++) await sleep(50); // the last marks
  const rss = (await Promise.all(collectorPids.map(peakRssMb))).map((m) => m.toFixed(0)).join('+');
  const lat = [...gen.latencies].sort((a, b) => a - b);
  const split = Object.entries(cpu).map(([k, v]) => `${k} ${((v / 1000 / elapsedS) * 100).toFixed(0)} %`).join(', ');
  const result: BenchResult = {
    op: label,
    iterations: gen.total,
    medianMs: percentile(lat, 50) ?? 0,
    p95Ms: percentile(lat, 99) ?? 0,
    note: `${(gen.total / elapsedS).toFixed(0)} events/s stored (offered ${RATE}/s); CPU (% of one core) ${split}; collector RSS peak ${rss} MB; ${await audit(rig.store, gen)}`,
  };
  await gen.stop();
  await rig.stop();
  return result;
}

// The collector is SIGKILLed a few seconds into a steady load, stays down KILL_S seconds while the
// devices keep publishing (the broker queues for its sessions), then starts again with the same ids.
async function killUnderLoad(opts: RigOptions): Promise<BenchResult> {
  const gen = new LoadGenerator(DEVICES, Math.ceil((KILL_RATE * (KILL_S + 15)) / DEVICES));
  const rig = await Rig.start(opts, gen);
  await gen.connect(rig.broker.url);
  const t0 = performance.now();
  const published = gen.run(KILL_RATE);
  await sleep(5000);
  await rig.killCollector(0);
  const killedAt = gen.published;
  await sleep(KILL_S * 1000);
  await rig.startCollector(0);
  await published;
  const storedAt = await untilStored(rig.store, gen.total);
  const lat = [...gen.latencies].sort((a, b) => a - b);
  const result: BenchResult = {
    op: `collector SIGKILLed ${KILL_S} s under load (${opts.store})`,
    iterations: gen.total,
    medianMs: percentile(lat, 50) ?? 0,
    p95Ms: percentile(lat, 99) ?? 0,
    note: `offered ${KILL_RATE}/s, killed after ${killedAt} published; ${await audit(rig.store, gen)}; all stored ${((storedAt - t0) / 1000).toFixed(1)} s after start`,
  };
  await gen.stop();
  await rig.stop();
  return result;
}

export const fleetLoadBench: Bench = {
  name: `fleet collector load: ${DEVICES} devices × ${EVENTS} events, ${SESSIONS} sessions per collector, real mosquitto, fleet serve as a child process${QUICK ? ' (BENCH_QUICK)' : ''}; load average before: ${loadavg().map((l) => l.toFixed(2)).join(' ')} (p95 column is p99; latency = publish → covered by the collector's ack mark)`,
  async run(): Promise<BenchResult[]> {
    const rows: Record<string, () => Promise<BenchResult>> = {
      sqlite: () => throughput('SQLite, 1 collector', { store: 'sqlite', collectors: 1, sessions: SESSIONS }),
      pg: () => throughput('PostgreSQL (fsync on), 1 collector', { store: 'postgres', collectors: 1, sessions: SESSIONS }),
      pg2: () => throughput('PostgreSQL, 2 collectors, shared subscription', { store: 'postgres', collectors: 2, sessions: SESSIONS }),
      kill: () => killUnderLoad({ store: 'sqlite', collectors: 1, sessions: SESSIONS }),
    };
    const out: BenchResult[] = [];
    for (const name of (process.env.EDGESEAL_FLEET_ROWS ?? Object.keys(rows).join(',')).split(',')) {
      const row = rows[name];
      if (!row) throw new Error(`EDGESEAL_FLEET_ROWS: expected names from ${Object.keys(rows).join(',')}, found ${name}`);
      out.push(await row());
    }
    return out;
  },
};
