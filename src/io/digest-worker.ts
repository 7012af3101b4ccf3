import { parentPort } from 'node:worker_threads';
import { asEdgesealError } from '../core/errors.js';
import { CHUNK, digestFileSync, type DigestOptions } from './file-digest.js';
import type { DigestProgressMessage, DigestReply, WorkerJob } from './digest-pool.js';

// One digest-pool worker: hashes the files it is sent, one at a time, with the same rules as the main
// thread's digestFile (symlink, kind and length) but blocking reads; errors go back as their code and message.
const port = parentPort;
if (!port) throw new Error('digest-worker: expected to run in a worker thread');
const buffer = Buffer.allocUnsafe(CHUNK); // one per worker: jobs run one at a time
port.on('message', (job: WorkerJob) => {
  let reply: DigestReply;
  try {
    reply = { id: job.id, ok: true, digest: digestFileSync(job.path, { buffer, ...(job.maxLength === undefined ? {} : { maxLength: job.maxLength }), ...progressTo(job, port) }) };
  } catch (err) {
    const e = asEdgesealError(err, 'STORAGE_ERROR');
    reply = { id: job.id, ok: false, code: e.code, message: e.message };
  }
  port.postMessage(reply);
});

// A progress message each time job.progressEvery more bytes are hashed (none unless asked for).
function progressTo(job: WorkerJob, to: NonNullable<typeof parentPort>): Pick<DigestOptions, 'onProgress'> {
  const every = job.progressEvery;
  if (every === undefined) return {};
  let next = every;
  return {
    onProgress: (done) => {
      if (done < next) return;
      next = done + every;
      to.postMessage({ id: job.id, progress: done } satisfies DigestProgressMessage);
    },
  };
}
