import { setTimeout as sleep } from 'node:timers/promises';
import { EdgesealError, isEdgesealError } from '../core/errors.js';
import { RetrievalDeadline, type RetrievalBounds } from '../io/retrieval-deadline.js';
import { openSource, type DownloadSource } from './download-source.js';
import { publishedTargetPath, type TargetRef } from './target-path.js';

export interface DownloadProgress {
  readonly received: number; // bytes in place so far
  readonly total: number;
  readonly resumedFrom: number; // bytes already present when this attempt started
  readonly phase?: 'verify'; // the re-read of the written slot (absent: the transfer itself)
}

export interface DownloadRequest {
  readonly source: DownloadSource;
  readonly target: TargetRef;
  readonly onProgress?: (p: DownloadProgress) => void;
  readonly signal?: AbortSignal;
  // minimum rate over the bytes still missing (all attempts together); req.signal is the run's signal
  readonly bounds?: Omit<RetrievalBounds, 'signal'>;
  readonly attempts?: number; // transfers tried within this call, each resuming the last (default 3)
  readonly retryDelayMs?: number; // pause between attempts (default 1000)
}

// Where the bytes go (the inactive slot, see stream-install.ts). received is where the next request
// starts; restart() goes back to byte 0 (the source ignored Range); settle() ends an attempt,
// interrupted or not, making what arrived durable.
export interface DownloadSink {
  readonly received: number;
  write(chunk: Uint8Array): Promise<void>;
  restart(): Promise<void>;
  settle(): Promise<void>;
}

// One transfer into the sink, resuming from sink.received. Returns when the sink holds exactly
// target.length bytes; throws FETCH_FAILED (resumable) or LENGTH_MISMATCH (the source is wrong).
async function transferOnce(req: DownloadRequest, sink: DownloadSink): Promise<void> {
  const { target } = req;
  if (sink.received === target.length) return;
  const body = await openSource(req.source, publishedTargetPath(target), sink.received, target.length, req.signal);
  if (!body.resumed && sink.received > 0) await sink.restart(); // the server ignored Range: start over
  const resumedFrom = sink.received;
  try {
    // tuf-js does the same: a declared length past the signed one is refused before reading a byte.
    if (body.declaredLength !== undefined && resumedFrom + body.declaredLength > target.length) {
      throw new EdgesealError('LENGTH_MISMATCH', `${target.name}: expected ${target.length} bytes, the source announced ${resumedFrom + body.declaredLength}`);
    }
    for await (const chunk of body.chunks) {
      if (sink.received + chunk.length > target.length) {
        throw new EdgesealError('LENGTH_MISMATCH', `${target.name}: expected ${target.length} bytes, the source sent more`);
      }
      await sink.write(chunk);
      req.onProgress?.({ received: sink.received, total: target.length, resumedFrom });
    }
  } catch (err) {
    if (isEdgesealError(err)) throw err;
    throw new EdgesealError('FETCH_FAILED', `${target.name}: transfer interrupted after ${sink.received} of ${target.length} bytes: ${(err as Error).message}`, { cause: err });
  } finally {
    body.cancel();
    // interrupted or not: keep what arrived for the next resume
    await sink.settle();
  }
  if (sink.received < target.length) {
    // A body that arrived whole, as announced, yet short: the source's file is wrong, not the network.
    if (body.declaredLength !== undefined) throw new EdgesealError('LENGTH_MISMATCH', `${target.name}: expected ${target.length} bytes, the source has ${sink.received}`);
    throw new EdgesealError('FETCH_FAILED', `${target.name}: the source ended after ${sink.received} of ${target.length} bytes`);
  }
}

// Fetches the target into `sink`, capped at its signed length, resuming from what the sink already
// holds with a Range request; retries interrupted transfers within the call.
export async function fetchInto(req: DownloadRequest, sink: DownloadSink): Promise<void> {
  const attempts = req.attempts ?? 3;
  const before = sink.received;
  const deadline = req.bounds ? new RetrievalDeadline(req.target.name, Math.max(0, req.target.length - before), { ...req.bounds, ...(req.signal ? { signal: req.signal } : {}) }) : undefined;
  const bounded = deadline ? { ...req, signal: deadline.signal } : req;
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        return await transferOnce(bounded, sink);
      } catch (err) {
        if (attempt >= attempts || !isEdgesealError(err, 'FETCH_FAILED') || bounded.signal?.aborted) throw err;
        await sleep(req.retryDelayMs ?? 1000);
      }
    }
  } catch (err) {
    // the sink keeps what arrived: the next run resumes from there
    throw deadline?.error(Math.max(0, sink.received - before)) ?? err;
  } finally {
    deadline?.dispose();
  }
}
