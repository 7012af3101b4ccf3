import { parentPort } from 'node:worker_threads';
import { keyLookupFrom } from '../registry.js';
import { classifyEnvelope, type KeyLookup } from '../verify-event.js';
import type { VerifyReply, VerifyRequest } from './verify-pool.js';

// One verify-pool worker: classifies the envelopes it is sent with the same pure classifyEnvelope as
// the rest of the fleet side, against the registry the collector last posted.
const port = parentPort;
if (!port) throw new Error('verify-worker: expected to run in a worker thread');
let lookup: KeyLookup = () => undefined;
port.on('message', (m: VerifyRequest) => {
  if (m.kind === 'registry') {
    lookup = keyLookupFrom(m.devices);
    return;
  }
  const results = m.jobs.map((j) => classifyEnvelope(j.raw, new Date(j.receivedAt), lookup, j.topic));
  port.postMessage({ id: m.id, results } satisfies VerifyReply);
});
