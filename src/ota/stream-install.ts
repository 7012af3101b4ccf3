import { createHash, type Hash } from 'node:crypto';
import { EdgesealError } from '../core/errors.js';
import { fetchInto, type DownloadProgress, type DownloadRequest, type DownloadSink } from './download.js';
import { assertSame, hashPrefix } from './slot-io.js';
import type { SlotBackend, SlotId, SlotWriter } from './slot.js';

// Streams a target straight into the inactive slot while hashing it: no copy of the image is ever
// kept on the state partition. The journalled offset says which prefix of the slot is durable
// (fdatasync'd) stream output; a resume re-hashes that prefix from the slot and asks the source for
// the rest. The slot counts as written only when the stream's digest and length match the signed
// target and a re-read of the slot (which may be served from the page cache) matches too.

export interface StreamRequest extends DownloadRequest {
  readonly slots: SlotBackend;
  readonly slot: SlotId;
  readonly offset: number; // journalled: bytes [0, offset) of the slot are durable stream output
  readonly restarted: boolean; // journalled: this install already went back to 0 after a mismatch
  // records a new durable offset (called only after fdatasync), or 0 before bytes at 0 are rewritten
  readonly checkpoint: (offset: number, restarted: boolean) => Promise<void>;
  readonly checkpointBytes?: number; // fdatasync + journal every this many bytes (default 32 MiB)
}

const CHECKPOINT_BYTES = 32 * 1024 * 1024;
// a slow link checkpoints by time too, so an interruption loses at most this long of transfer
const CHECKPOINT_MS = 2000;

// The slot as a download sink: positional writes, a running hash, a checkpoint per checkpointBytes
// or CHECKPOINT_MS. Checkpoints run one at a time, each covering the writes done when it started.
class SlotSink implements DownloadSink {
  received: number;
  private synced: number;
  private queued: number; // where the last checkpoint started by write() will reach
  private failure: Error | undefined;
  private chain: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly req: StreamRequest,
    private readonly writer: SlotWriter,
    public hash: Hash,
    offset: number,
    private readonly restarted: boolean,
  ) {
    this.received = offset;
    this.synced = offset;
    this.queued = offset;
    this.timer = setInterval(() => void this.settle().catch(() => undefined), CHECKPOINT_MS).unref();
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.failure) throw this.failure;
    const written = this.writer.write(chunk, this.received);
    this.hash.update(chunk); // on this thread while the write runs on the pool
    await written;
    this.received += chunk.length;
    // the checkpoint's fdatasync overlaps the next writes; a failure surfaces at the next write or the end
    if (this.received - this.queued >= (this.req.checkpointBytes ?? CHECKPOINT_BYTES)) {
      this.queued = this.received;
      this.settle().catch((err: unknown) => (this.failure ??= err as Error));
    }
  }

  restart(): Promise<void> {
    // journalled before the first rewrite: the slot's prefix stops being what the offset vouches for
    return this.serial(async () => {
      await this.req.checkpoint(0, this.restarted);
      this.hash = createHash('sha256');
      this.received = 0;
      this.synced = 0;
      this.queued = 0;
    });
  }

  settle(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return this.serial(async () => {
      const upTo = this.received;
      if (upTo === this.synced) return;
      await this.writer.datasync();
      this.synced = upTo;
      await this.req.checkpoint(upTo, this.restarted);
    });
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private serial(step: () => Promise<void>): Promise<void> {
    const next = this.chain.then(step);
    this.chain = next.catch(() => undefined); // a failed timer checkpoint must not block the next one
    return next;
  }
}

// One pass from `from` (re-hashing the slot's first `from` bytes) to the end; resolves to the
// stream's digest, and whether it joined bytes from an earlier transfer.
async function streamOnce(req: StreamRequest, from: number, restarted: boolean): Promise<{ sha256: string; resumed: boolean }> {
  const hash = createHash('sha256');
  // a slot shorter than the journal says (a file slot replaced meanwhile) cannot be resumed
  const offset = from > 0 && (await hashPrefix(req.slots.location(req.slot), from, hash).catch(() => -1)) === from ? from : 0;
  if (offset < from) await req.checkpoint(0, restarted);
  const writer = await req.slots.open(req.slot, req.target, offset === 0);
  const sink = new SlotSink(req, writer, offset === 0 ? createHash('sha256') : hash, offset, restarted);
  let resumed = offset > 0;
  try {
    const onProgress = (p: DownloadProgress): void => {
      if (p.resumedFrom > 0) resumed = true;
      req.onProgress?.(p);
    };
    await fetchInto({ ...req, onProgress }, sink);
    await writer.finish(req.target.length);
    await writer.datasync();
  } finally {
    sink.stop();
    await sink.settle().catch(() => undefined);
    await writer.close();
  }
  return { sha256: sink.hash.digest('hex'), resumed };
}

// Writes the target into req.slot and verifies it there. DIGEST_MISMATCH only after a stream from
// byte 0: a resumed one that mismatches (a torn prefix, a source that changed between ranges) is
// retried once from 0 first — journalled, so a crash during the retry does not earn another.
export async function streamIntoSlot(req: StreamRequest): Promise<void> {
  const { target } = req;
  const where = `slot ${req.slot} (${req.slots.location(req.slot)})`;
  let restarted = req.restarted;
  let pass = await streamOnce(req, req.offset, restarted);
  if (pass.sha256 !== target.sha256 && pass.resumed && !restarted) {
    restarted = true;
    await req.checkpoint(0, restarted);
    pass = await streamOnce(req, 0, restarted);
  }
  if (pass.sha256 !== target.sha256) {
    throw new EdgesealError('DIGEST_MISMATCH', `${target.name}: expected sha256 ${target.sha256}, the stream into ${where} gave ${pass.sha256}`);
  }
  // a fresh read through a new descriptor: catches short or misdirected writes before the slot is armed
  const onProgress = req.onProgress && ((done: number): void => req.onProgress?.({ received: done, total: target.length, resumedFrom: 0, phase: 'verify' }));
  assertSame(`${where} re-read after writing`, await req.slots.measure(req.slot, target.length, onProgress), target);
}
