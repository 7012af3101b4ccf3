import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createHash } from 'node:crypto';
import { digestFile } from '../src/io/file-digest.js';
import { createEventSigner } from '../src/telemetry/envelope.js';
import type { EventInput } from '../src/telemetry/event.js';
import { percentile } from '../src/telemetry/metrics.js';
import { DiskOutboxStore } from '../src/telemetry/outbox/disk-store.js';
import { Outbox } from '../src/telemetry/outbox/outbox.js';
import { MqttPublisher } from '../src/telemetry/publisher.js';
import { TelemetryReporter } from '../src/telemetry/reporter.js';
import { deviceTopics } from '../src/telemetry/topics.js';
import { startMosquitto, type Mosquitto } from '../test/helpers/mosquitto.js';
import type { Bench, BenchResult } from './measure.js';

const VERDICT: EventInput = { type: 'boot-verification', verdict: 'ok', image: { name: 'rootfs.img', version: '1.4.2', sha256: 'ab'.repeat(32) }, keyids: ['cd'.repeat(32)], latencyMs: 41, rootVersion: 3 };

interface Device {
  reporter: TelemetryReporter;
  outbox: Outbox;
  publisher: MqttPublisher;
  acked: Map<number, number>; // seq → performance.now() at PUBACK
  dir: string;
}

async function openDevice(broker: Mosquitto | undefined, url: string): Promise<Device> {
  const dir = await mkdtemp(join(tmpdir(), 'edgeseal-bench-tel-'));
  const outbox = await Outbox.open(new DiskOutboxStore(dir));
  const acked = new Map<number, number>();
  // Bench-only probe: the publisher calls remove() exactly when a PUBACK arrives.
  const remove = outbox.remove.bind(outbox);
  outbox.remove = (seq) => (acked.set(seq, performance.now()), remove(seq));
  const reporter = new TelemetryReporter({ outbox, signer: createEventSigner(new Uint8Array(32).fill(1)), deviceId: 'bench', fleet: 'bench', clock: () => new Date() });
  const publisher = new MqttPublisher({ broker: { url }, topics: deviceTopics({ prefix: 'edgeseal', fleet: 'bench', deviceId: 'bench' }), outbox, clientId: 'bench' });
  if (broker) publisher.start();
  return { reporter, outbox, publisher, acked, dir };
}

async function until(cond: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('bench: timed out');
    await new Promise((r) => setTimeout(r, 2));
  }
}

function latencyRow(op: string, samples: number[], note: string): BenchResult {
  const sorted = [...samples].sort((a, b) => a - b);
  return { op, iterations: samples.length, medianMs: percentile(sorted, 50) ?? 0, p95Ms: percentile(sorted, 95) ?? 0, note: `p99 ${(percentile(sorted, 99) ?? 0).toFixed(3)} ms; ${note}` };
}

// Append → PUBACK: unloaded (one event at a time) and under a burst of `n` back-to-back appends.
async function benchPublish(broker: Mosquitto, n: number): Promise<BenchResult[]> {
  const dev = await openDevice(broker, broker.url);
  try {
    await until(() => dev.publisher.state === 'connected');
    const single: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t0 = performance.now();
      const { seq } = await dev.reporter.record(VERDICT);
      await until(() => dev.acked.has(seq));
      single.push((dev.acked.get(seq) ?? 0) - t0);
    }
    const started = new Map<number, number>();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const at = performance.now();
      started.set((await dev.reporter.record(VERDICT)).seq, at);
    }
    const appended = performance.now() - t0;
    await until(() => dev.outbox.stats(0).depth === 0);
    const elapsed = performance.now() - t0;
    const burst = [...started].map(([seq, at]) => (dev.acked.get(seq) ?? 0) - at);
    return [
      latencyRow('append → PUBACK, one at a time', single, 'fsync\'d append, signed, QoS 1 to mosquitto'),
      latencyRow(`append → PUBACK, burst of ${n}`, burst, `throughput ${Math.round(n / (elapsed / 1000))} events/s (appends alone ${Math.round(n / (appended / 1000))}/s)`),
    ];
  } finally {
    await dev.publisher.stop();
    await rm(dev.dir, { recursive: true, force: true });
  }
}

// Disk cost of a queued event while the broker is away: file bytes and allocated blocks.
async function benchDisk(n: number): Promise<BenchResult> {
  const dev = await openDevice(undefined, 'mqtt://127.0.0.1:1');
  try {
    const samples: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await dev.reporter.record(VERDICT);
      samples.push(performance.now() - t0);
    }
    let bytes = 0;
    let blocks = 0;
    const spool = join(dev.dir, 'spool');
    for (const name of await readdir(spool)) {
      const st = await stat(join(spool, name));
      bytes += st.size;
      blocks += st.blocks * 512;
    }
    return latencyRow('append while offline (disk bytes/event)', samples, `${Math.round(bytes / n)} B/event file size, ${Math.round(blocks / n)} B/event allocated`);
  } finally {
    await rm(dev.dir, { recursive: true, force: true });
  }
}

// A stand-in boot check (digest three 32 MiB images) without telemetry, awaiting one event per image,
// and pipelined (each event's append overlaps the next digest; all durable before READY=1). The
// three variants run interleaved so that load from other processes hits them alike.
async function benchBootOverhead(broker: Mosquitto, rounds = 25): Promise<BenchResult[]> {
  const dir = await mkdtemp(join(tmpdir(), 'edgeseal-bench-boot-'));
  const images = [0, 1, 2].map((i) => join(dir, `img${i}`));
  for (const p of images) await writeFile(p, createHash('sha256').update(p).digest().toString('hex').repeat(1 << 19));
  const dev = await openDevice(broker, broker.url);
  const event = (p: string, sha256: string, t0: number): EventInput => ({ ...VERDICT, image: { name: p, sha256 }, latencyMs: Math.round(performance.now() - t0) });
  const variants: [string, () => Promise<unknown>][] = [
    ['off', async () => {
      for (const p of images) await digestFile(p);
    }],
    ['awaited', async () => {
      for (const p of images) {
        const t0 = performance.now();
        await dev.reporter.record(event(p, (await digestFile(p)).sha256, t0));
      }
    }],
    ['pipelined', async () => {
      const pending: Promise<unknown>[] = [];
      for (const p of images) {
        const t0 = performance.now();
        pending.push(dev.reporter.record(event(p, (await digestFile(p)).sha256, t0)));
      }
      await Promise.all(pending);
    }],
  ];
  try {
    await until(() => dev.publisher.state === 'connected');
    const samples = new Map<string, number[]>(variants.map(([name]) => [name, []]));
    for (let i = 0; i < rounds + 2; i++) {
      for (const [name, run] of variants) {
        const t0 = performance.now();
        await run();
        if (i >= 2) samples.get(name)?.push(performance.now() - t0); // two warm-up rounds
      }
    }
    const rows = variants.map(([name]) => latencyRow(`boot check stand-in, telemetry ${name}`, samples.get(name) ?? [], '3 × 32 MiB digests'));
    const off = rows[0]?.medianMs ?? 1;
    return rows.map((r, i) => (i === 0 ? r : { ...r, note: `${r.note}; ${r.medianMs >= off ? '+' : ''}${(((r.medianMs - off) / off) * 100).toFixed(1)}% vs off (target ≤ 5%)` }));
  } finally {
    await dev.publisher.stop();
    await rm(dev.dir, { recursive: true, force: true });
    await rm(dir, { recursive: true, force: true });
  }
}

export const telemetryBench: Bench = {
  name: 'Telemetry: durable outbox → signed events → mosquitto (loopback)',
  async run() {
    const broker = await startMosquitto();
    try {
      return [...(await benchPublish(broker, 2000)), await benchDisk(500), ...(await benchBootOverhead(broker))];
    } finally {
      await broker.stop();
    }
  },
};
