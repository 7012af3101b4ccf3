import { parentPort } from 'node:worker_threads';
import { asEdgesealError } from '../core/errors.js';
import { CHUNK, digestFile } from './file-digest.js';
import type { DigestJob, DigestReply } from './digest-pool.js';

// One digest-pool worker: hashes the files it is sent, one at a time, through the same digestFile the
// main thread uses (same symlink, kind and length rules); errors go back as their code and message.
const port = parentPort;
if (!port) throw new Error('digest-worker: expected to run in a worker thread');
const buffer = Buffer.allocUnsafe(CHUNK); // one per worker: jobs run one at a time
port.on('message', (job: DigestJob & { readonly id: number }) => {
  digestFile(job.path, job.maxLength === undefined ? { buffer } : { maxLength: job.maxLength, buffer }).then(
    (digest): void => port.postMessage({ id: job.id, ok: true, digest } satisfies DigestReply),
    (err: unknown): void => {
      const e = asEdgesealError(err, 'STORAGE_ERROR');
      port.postMessage({ id: job.id, ok: false, code: e.code, message: e.message } satisfies DigestReply);
    },
  );
});
