import { parentPort } from 'node:worker_threads';
import { asEdgesealError } from '../core/errors.js';
import { CHUNK, digestFileSync } from './file-digest.js';
import type { DigestJob, DigestReply } from './digest-pool.js';

// One digest-pool worker: hashes the files it is sent, one at a time, with the same rules as the main
// thread's digestFile (symlink, kind and length) but blocking reads; errors go back as their code and message.
const port = parentPort;
if (!port) throw new Error('digest-worker: expected to run in a worker thread');
const buffer = Buffer.allocUnsafe(CHUNK); // one per worker: jobs run one at a time
port.on('message', (job: DigestJob & { readonly id: number }) => {
  let reply: DigestReply;
  try {
    reply = { id: job.id, ok: true, digest: digestFileSync(job.path, job.maxLength === undefined ? { buffer } : { maxLength: job.maxLength, buffer }) };
  } catch (err) {
    const e = asEdgesealError(err, 'STORAGE_ERROR');
    reply = { id: job.id, ok: false, code: e.code, message: e.message };
  }
  port.postMessage(reply);
});
