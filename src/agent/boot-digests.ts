import { asEdgesealError } from '../core/errors.js';
import { digestPoolSize, openDigestPool, type DigestPool } from '../io/digest-pool.js';
import type { FileDigest } from '../io/file-digest.js';
import type { Verdict } from '../tuf/offline/types.js';
import { readBootId, readBootRecord, reusableDigests, writeBootRecord, type RecordedDigest } from './boot-record.js';
import type { Device } from './device.js';
import type { ImageVerifier } from './image-verifier.js';
import { bootProgress, type BootProgressOutlets } from './boot-progress.js';
import type { InstalledImage } from './installed-images.js';

// Where the boot check's digests come from (issue 12 B, C): this boot's record when the caller may
// reuse it and it cross-checks with the PCR; otherwise hashed, several image files at once on a worker
// pool, a lone or small image (or a slot, which its backend reads) on this thread. Verdicts stay in order.

export interface DigestSupply {
  // the images with their digest() bound to the chosen source
  readonly images: readonly InstalledImage[];
  // after the check: stops the workers, and records the verified digests if any were hashed
  finish(outcomes: readonly { readonly image: InstalledImage; readonly verdict: Verdict; readonly digest?: FileDigest }[], now: Date): Promise<void>;
}

// progress: outlets besides the log (a terminal bar, systemd's STATUS=); lines go to the log unless a bar shows them.
export async function supplyDigests(dev: Device, verifier: ImageVerifier, list: readonly InstalledImage[], now: Date, reuse: boolean, progress: BootProgressOutlets = {}): Promise<DigestSupply> {
  const log = dev.logger.child({ component: 'boot-check' });
  const lines = progress.bar ? {} : { log: (line: string, fields: Record<string, unknown>) => log.info(line, fields) };
  const bound = bindDigests(verifier, list, now, reuse ? await recordedDigests(dev) : [], { progress: { ...lines, ...progress } });
  const workers = bound.pool ? ` (${bound.pooled} on ${bound.pool.size} worker threads)` : '';
  log.info(`image digests: ${bound.reused} reused from this boot's record, ${bound.hashed} hashed${workers}`);
  return {
    images: bound.images,
    async finish(outcomes, at) {
      await bound.pool?.close();
      if (bound.hashed > 0) await recordDigests(dev, outcomes, at);
    },
  };
}

export interface BoundDigests {
  readonly images: readonly InstalledImage[];
  readonly reused: number; // images whose digest comes from this boot's record
  readonly hashed: number; // images whose digest will be computed
  readonly pooled: number; // of which on the pool's workers
  readonly pool?: DigestPool; // the caller closes it after the check
}

// Binds each image's digest() to a recorded digest, a pool job started now, or (left as is) a read on
// this thread when checkImage asks; an image the metadata does not list is never read. With
// opts.progress, the hashing of them all reports as one figure (boot-progress.ts; nothing up to 64 MiB).
// Below this many bytes to hash, starting workers (≈ 40 ms each) costs more than they save. Above it
// even a lone image goes to a worker: its blocking reads hash faster than this thread's async ones.
export const POOL_MIN_BYTES = 64 * 1024 * 1024;

export interface BindOptions {
  readonly poolMinBytes?: number;
  readonly progress?: BootProgressOutlets;
}

export function bindDigests(verifier: ImageVerifier, list: readonly InstalledImage[], now: Date, recorded: readonly RecordedDigest[], opts: BindOptions = {}): BoundDigests {
  const plan = list.map((image) => {
    const expected = verifier.expected(image.target, image.kind, now);
    const length = expected.ok ? expected.target.length : undefined;
    return { image, length, hit: recorded.find((r) => r.target === image.target && r.location === image.location && r.length === length) };
  });
  const toHash = plan.filter((p) => !p.hit && p.length !== undefined);
  const files = toHash.filter((p) => p.image.file !== undefined);
  const bytes = toHash.reduce((sum, p) => sum + (p.length ?? 0), 0);
  const pool = files.length > 0 && bytes >= (opts.poolMinBytes ?? POOL_MIN_BYTES) ? openDigestPool(digestPoolSize(files.length)) : undefined;
  const progress = opts.progress && bootProgress(toHash.map((p) => p.length ?? 0), opts.progress);
  const images = plan.map((entry): InstalledImage => {
    const { image, length, hit } = entry;
    const bound = (digest: Promise<FileDigest>): InstalledImage => ({ ...image, digest: (n) => (n === length ? digest : image.digest(n)) });
    if (hit) return bound(Promise.resolve({ length: hit.length, sha256: hit.sha256 }));
    if (length === undefined) return image;
    const at = toHash.indexOf(entry);
    const onProgress = progress && ((done: number): void => progress.image(at, done));
    const settle = (digest: Promise<FileDigest>): Promise<FileDigest> => {
      // awaited by checkImage in turn; handled here too, if the check stops first
      void digest.then(
        () => progress?.settled(at),
        () => progress?.settled(at),
      );
      return digest;
    };
    if (!pool || image.file === undefined) return progress ? { ...image, digest: (n) => settle(image.digest(n, onProgress)) } : image;
    return bound(settle(pool.digest({ path: image.file, maxLength: length }, onProgress)));
  });
  return { images, reused: plan.filter((p) => p.hit).length, hashed: toHash.length, pooled: pool ? files.length : 0, ...(pool ? { pool } : {}) };
}

// This boot's recorded digests, once the event log replays to the PCR and holds each of them.
async function recordedDigests(dev: Device): Promise<readonly RecordedDigest[]> {
  const log = dev.logger.child({ component: 'boot-check' });
  const record = await readBootRecord(dev.config.runDir);
  if (typeof record === 'string') {
    log.info(`no boot record to reuse (${record}): hashing every image`);
    return [];
  }
  let usable: readonly RecordedDigest[] | string;
  try {
    usable = reusableDigests(record, await readBootId(), await dev.trust.verifyEventLog());
  } catch (err) {
    usable = asEdgesealError(err).message;
  }
  if (typeof usable === 'string') log.warn(`boot record ignored, hashing every image again: ${usable}`);
  return typeof usable === 'string' ? [] : usable;
}

async function recordDigests(dev: Device, outcomes: Parameters<DigestSupply['finish']>[0], now: Date): Promise<void> {
  const bootId = await readBootId();
  if (bootId === undefined) return;
  const images = outcomes.flatMap(({ image, verdict, digest }) =>
    verdict.ok && digest ? [{ target: image.target, location: image.location, ...(image.slot ? { slot: image.slot } : {}), length: digest.length, sha256: digest.sha256, verifiedAt: now.toISOString() }] : [],
  );
  await writeBootRecord(dev.config.runDir, { format: 1, bootId, images }).catch((err: unknown) =>
    dev.logger.child({ component: 'boot-check' }).warn(`could not record this boot's digests (the next check hashes again): ${asEdgesealError(err).message}`),
  );
}
