import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { EdgesealError, type ErrorCode } from '../core/errors.js';
import type { FileDigest } from './file-digest.js';

// Hashes files on worker threads (issue 12 B): sha256 is CPU-bound, so one image per core, each read
// with blocking reads on its worker (digestFileSync). Small totals stay on the caller's thread (boot-digests.ts).

export interface DigestJob {
  readonly path: string;
  readonly maxLength?: number;
}

// A job as posted to a worker: progressEvery, when set, asks for a progress message each time that many
// more bytes are hashed (one small message per 8 MiB: no measurable cost against hashing them).
export type WorkerJob = DigestJob & { readonly id: number; readonly progressEvery?: number };

export type DigestReply = { readonly id: number; readonly ok: true; readonly digest: FileDigest } | { readonly id: number; readonly ok: false; readonly code: ErrorCode; readonly message: string };
export type DigestProgressMessage = { readonly id: number; readonly progress: number }; // bytes hashed so far

export const PROGRESS_EVERY = 8 * 1024 * 1024;

// beyond a few workers the storage, not the CPU, is the limit, and every worker holds ~10 MiB
export const MAX_DIGEST_WORKERS = 4;

export function digestPoolSize(jobs: number, cores: number = availableParallelism()): number {
  return Math.max(1, Math.min(jobs, cores, MAX_DIGEST_WORKERS));
}

export interface DigestPool {
  readonly size: number;
  // worker threads still running (0 once close() has resolved)
  readonly live: number;
  // onProgress: bytes of this file hashed so far, posted by its worker every PROGRESS_EVERY bytes
  digest(job: DigestJob, onProgress?: (done: number) => void): Promise<FileDigest>;
  // terminates every worker; jobs not yet finished reject with INTERNAL
  close(): Promise<void>;
}

interface Pending {
  readonly id: number;
  readonly job: DigestJob;
  readonly onProgress?: (done: number) => void;
  resolve(d: FileDigest): void;
  reject(e: EdgesealError): void;
}

export function openDigestPool(size: number): DigestPool {
  const queue: Pending[] = [];
  const busy = new Map<Worker, Pending>();
  const idle: Worker[] = [];
  let live = 0;
  let nextId = 0;
  let closed = false;
  const failAll = (message: string): void => {
    for (const p of [...busy.values(), ...queue.splice(0)]) p.reject(new EdgesealError('INTERNAL', `digest of ${p.job.path}: ${message}`));
    busy.clear();
  };
  const dispatch = (): void => {
    while (idle.length > 0 && queue.length > 0) {
      const w = idle.pop()!;
      const p = queue.shift()!;
      busy.set(w, p);
      const job: WorkerJob = { id: p.id, ...p.job, ...(p.onProgress ? { progressEvery: PROGRESS_EVERY } : {}) };
      w.postMessage(job);
    }
  };
  const workers = Array.from({ length: size }, () => {
    // no inherited execArgv: flags meant for the main script (e.g. --input-type) would stop the worker
    const w = new Worker(new URL('./digest-worker.js', import.meta.url), { execArgv: [] });
    live++;
    w.on('message', (r: DigestReply | DigestProgressMessage) => {
      if ('progress' in r) {
        const p = busy.get(w);
        if (p?.id === r.id) p.onProgress?.(r.progress);
        return;
      }
      const p = busy.get(w);
      busy.delete(w);
      idle.push(w);
      if (p?.id === r.id) {
        if (r.ok) p.resolve(r.digest);
        else p.reject(new EdgesealError(r.code, r.message));
      }
      dispatch();
    });
    w.on('error', (err: Error) => failAll(`expected a digest from the worker, found a crash: ${err.message}`));
    w.on('exit', () => {
      live--;
      const at = idle.indexOf(w);
      if (at >= 0) idle.splice(at, 1);
      if (live === 0) failAll('expected a running digest worker, found none left');
    });
    idle.push(w);
    return w;
  });
  return {
    size,
    get live() {
      return live;
    },
    digest(job, onProgress) {
      if (closed || live === 0) return Promise.reject(new EdgesealError('INTERNAL', `digest of ${job.path}: expected an open digest pool with running workers, found none`));
      return new Promise<FileDigest>((resolve, reject) => {
        queue.push({ id: nextId++, job, ...(onProgress ? { onProgress } : {}), resolve, reject });
        dispatch();
      });
    },
    async close() {
      closed = true;
      failAll('expected the digest to finish, found the pool closed first');
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
