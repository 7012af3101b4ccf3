import { open, stat, unlink, mkdir } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { EdgesealError, isEdgesealError } from '../core/errors.js';
import { digestFile } from '../io/file-digest.js';
import { RetrievalDeadline, type RetrievalBounds } from '../io/retrieval-deadline.js';
import { openSource, type DownloadSource } from './download-source.js';
import { partPath, publishedTargetPath, type TargetRef } from './target-path.js';

export interface DownloadProgress {
  readonly received: number; // bytes in the .part file so far
  readonly total: number;
  readonly resumedFrom: number; // bytes already present when this attempt started
}

export interface DownloadRequest {
  readonly source: DownloadSource;
  readonly target: TargetRef;
  readonly stagingDir: string;
  readonly onProgress?: (p: DownloadProgress) => void;
  readonly signal?: AbortSignal;
  // minimum rate over the bytes still missing (all attempts together); req.signal is the run's signal
  readonly bounds?: Omit<RetrievalBounds, 'signal'>;
  readonly attempts?: number; // transfers tried within this call, each resuming the last (default 3)
  readonly retryDelayMs?: number; // pause between attempts (default 1000)
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

// One transfer into the .part file, resuming from its current size. Returns when the file holds
// exactly target.length bytes; throws FETCH_FAILED (resumable) or LENGTH_MISMATCH (part discarded).
async function transferOnce(req: DownloadRequest, part: string): Promise<void> {
  const { target } = req;
  let offset = await sizeOf(part);
  if (offset > target.length) {
    await unlink(part);
    offset = 0;
  }
  if (offset === target.length) return;
  const body = await openSource(req.source, publishedTargetPath(target), offset, target.length, req.signal).catch(async (err: unknown) => {
    if (isEdgesealError(err, 'LENGTH_MISMATCH')) await unlink(part).catch(() => undefined);
    throw err;
  });
  if (!body.resumed) offset = 0; // the server ignored Range: start over
  const resumedFrom = offset;
  const fh = await open(part, offset === 0 ? 'w' : 'a');
  let received = offset;
  try {
    // tuf-js does the same: a declared length past the signed one is refused before reading a byte.
    if (body.declaredLength !== undefined && offset + body.declaredLength > target.length) {
      throw new EdgesealError('LENGTH_MISMATCH', `${target.name}: expected ${target.length} bytes, the source announced ${offset + body.declaredLength}`);
    }
    for await (const chunk of body.chunks) {
      if (received + chunk.length > target.length) {
        throw new EdgesealError('LENGTH_MISMATCH', `${target.name}: expected ${target.length} bytes, the source sent more`);
      }
      await fh.write(chunk);
      received += chunk.length;
      req.onProgress?.({ received, total: target.length, resumedFrom });
    }
    await fh.sync();
  } catch (err) {
    // Interrupted: keep what arrived for the next resume. Over-long: the source is wrong, discard.
    await fh.close();
    if (isEdgesealError(err, 'LENGTH_MISMATCH')) await unlink(part).catch(() => undefined);
    if (isEdgesealError(err)) throw err;
    throw new EdgesealError('FETCH_FAILED', `${target.name}: transfer interrupted after ${received} of ${target.length} bytes: ${(err as Error).message}`, { cause: err });
  } finally {
    body.cancel();
  }
  await fh.close();
  if (received < target.length) {
    // A body that arrived whole, as announced, yet short: the source's file is wrong, not the network.
    if (body.declaredLength !== undefined) {
      await unlink(part).catch(() => undefined);
      throw new EdgesealError('LENGTH_MISMATCH', `${target.name}: expected ${target.length} bytes, the source has ${received}`);
    }
    throw new EdgesealError('FETCH_FAILED', `${target.name}: the source ended after ${received} of ${target.length} bytes`);
  }
}

// Fetches the target into <stagingDir>/<sha256>.<basename>.part, capped at its signed length, resuming
// an interrupted .part with a Range request; retries interrupted transfers. Returns the .part path.
export async function fetchToPart(req: DownloadRequest): Promise<string> {
  const part = partPath(req.stagingDir, req.target);
  await mkdir(req.stagingDir, { recursive: true });
  const attempts = req.attempts ?? 3;
  const before = await sizeOf(part);
  const deadline = req.bounds ? new RetrievalDeadline(req.target.name, Math.max(0, req.target.length - before), { ...req.bounds, ...(req.signal ? { signal: req.signal } : {}) }) : undefined;
  const bounded = deadline ? { ...req, signal: deadline.signal } : req;
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        await transferOnce(bounded, part);
        return part;
      } catch (err) {
        if (attempt >= attempts || !isEdgesealError(err, 'FETCH_FAILED') || bounded.signal?.aborted) throw err;
        await sleep(req.retryDelayMs ?? 1000);
      }
    }
  } catch (err) {
    // the .part keeps what arrived: the next run resumes from there
    throw deadline?.error(Math.max(0, (await sizeOf(part)) - before)) ?? err;
  } finally {
    deadline?.dispose();
  }
}

// Checks a complete .part against the signed length and sha256; a mismatch discards it (a resume
// would only continue the wrong bytes).
export async function verifyPart(part: string, target: TargetRef): Promise<void> {
  const found = await digestFile(part, { maxLength: target.length });
  if (found.length !== target.length) {
    await unlink(part).catch(() => undefined);
    throw new EdgesealError('LENGTH_MISMATCH', `${target.name}: expected ${target.length} bytes, found ${found.length}`);
  }
  if (found.sha256 !== target.sha256) {
    await unlink(part).catch(() => undefined);
    throw new EdgesealError('DIGEST_MISMATCH', `${target.name}: expected sha256 ${target.sha256}, found ${found.sha256}`);
  }
}

// Download + verify: hands back the path of a .part whose length and sha256 match the signed target.
export async function downloadTarget(req: DownloadRequest): Promise<string> {
  const part = await fetchToPart(req);
  await verifyPart(part, req.target);
  return part;
}
