import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { EdgesealError } from '../../core/errors.js';
import type { DeviceRecord } from '../store/port.js';
import type { Classified } from '../verify-event.js';

// One envelope to classify: the arguments of classifyEnvelope, in a form that crosses threads.
export interface VerifyJob {
  raw: string;
  receivedAt: number; // ms since the epoch
  topic: { fleet: string; deviceId: string };
}

export type VerifyRequest = { kind: 'registry'; devices: DeviceRecord[] } | { kind: 'batch'; id: number; jobs: VerifyJob[] };
export interface VerifyReply {
  id: number;
  results: Classified[];
}

// The collector's event loop also runs MQTT, the SQLite commit and the marks: it keeps one core, and
// the verification workers get the others (at least one).
export const verifyWorkerCount = (cores: number = availableParallelism()): number => Math.max(1, cores - 1);

// Jobs per message to a worker: 16 stored 4,087 events/s in the load bench, one message per macrotask 1,857.
const CHUNK = 16;

interface Waiting {
  job: VerifyJob;
  resolve: (c: Classified) => void;
  reject: (e: unknown) => void;
}

// Verifies event signatures on worker threads: ed25519 verification was the largest share of the
// collector's CPU (load bench), and on one thread it capped the collector below the 5,000 events/s goal.
// Each worker runs the same pure classifyEnvelope against its copy of the registry. The jobs that
// arrive in one macrotask go out as one message per worker. A registry update is posted to every
// worker before any later batch, so a batch is always classified against the newest registry sent.
export class VerifyPool {
  private readonly workers: Worker[] = [];
  private readonly inFlight = new Map<number, { worker: Worker; waiting: Waiting[] }>();
  private queue: Waiting[] = [];
  private devices: DeviceRecord[];
  private nextId = 0;
  private turn = 0;
  private scheduled = false;
  private closed = false;

  constructor(size: number, devices: DeviceRecord[]) {
    this.devices = devices;
    for (let i = 0; i < size; i++) this.workers.push(this.spawn());
  }

  private spawn(): Worker {
    // no inherited execArgv: flags meant for the main script would stop the worker
    const w = new Worker(new URL('./verify-worker.js', import.meta.url), { execArgv: [] });
    w.postMessage({ kind: 'registry', devices: this.devices } satisfies VerifyRequest);
    w.on('message', (r: VerifyReply) => {
      const batch = this.inFlight.get(r.id);
      this.inFlight.delete(r.id);
      batch?.waiting.forEach((x, i) => {
        const c = r.results[i];
        if (c) x.resolve(c);
        else x.reject(new EdgesealError('INTERNAL', `verify worker: expected ${batch.waiting.length} results, found ${r.results.length}`));
      });
    });
    // A crashed worker fails its batches (their events get no PUBACK, so the broker sends them again)
    // and is replaced.
    const lost = (why: string): void => {
      for (const [id, b] of this.inFlight) {
        if (b.worker !== w) continue;
        this.inFlight.delete(id);
        b.waiting.forEach((x) => x.reject(new EdgesealError('INTERNAL', `verify worker: expected results, found ${why}`)));
      }
      const at = this.workers.indexOf(w);
      if (at >= 0 && !this.closed) this.workers[at] = this.spawn();
    };
    w.on('error', (err: Error) => lost(`a crash: ${err.message}`));
    w.on('exit', (code) => lost(`an exit with code ${code}`));
    return w;
  }

  setRegistry(devices: DeviceRecord[]): void {
    this.devices = devices;
    for (const w of this.workers) w.postMessage({ kind: 'registry', devices } satisfies VerifyRequest);
  }

  classify(job: VerifyJob): Promise<Classified> {
    if (this.closed) return Promise.reject(new EdgesealError('INTERNAL', 'verify pool: expected it open, found it closed'));
    return new Promise<Classified>((resolve, reject) => {
      this.queue.push({ job, resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => this.flush());
    });
  }

  // Sends what queued up in chunks, round robin over the workers. Small chunks come back one by one,
  // so the group commit stores the first while the workers verify the rest and their PUBACKs go out
  // sooner: verification and commit overlap instead of taking turns.
  private flush(): void {
    this.scheduled = false;
    const all = this.queue;
    this.queue = [];
    for (let at = 0; at < all.length; at += CHUNK) {
      const worker = this.workers[this.turn++ % this.workers.length];
      if (!worker) break;
      const waiting = all.slice(at, at + CHUNK);
      const id = this.nextId++;
      this.inFlight.set(id, { worker, waiting });
      worker.postMessage({ kind: 'batch', id, jobs: waiting.map((x) => x.job) } satisfies VerifyRequest);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
    for (const b of this.inFlight.values()) b.waiting.forEach((x) => x.reject(new EdgesealError('INTERNAL', 'verify pool: expected results, found the pool closed')));
    this.inFlight.clear();
  }
}
