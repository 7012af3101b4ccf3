import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { EdgesealError } from '../core/errors.js';

export interface FileDigest {
  readonly length: number;
  readonly sha256: string; // lowercase hex
}

// 1 MiB reads: constant memory for multi-GiB images, measured ≈ 2.5× faster than 64 KiB reads.
export const CHUNK = 1024 * 1024;

// What to hash, decided from the file's kind alone (pure, so the policy is testable without a block
// device): a regular file is read to its end, refused up front past maxLength; a block device — a
// partition larger than the image it holds — over exactly maxLength bytes, since its size says
// nothing about where the image ends (a shorter device yields fewer bytes, and the caller's length
// check refuses it).
export function readPlan(file: { readonly blockDevice: boolean; readonly size: number }, maxLength: number | undefined, path: string): { readonly exactly?: number; readonly atMost?: number } {
  if (maxLength === undefined) return {};
  if (file.blockDevice) return { exactly: maxLength };
  if (file.size > maxLength) throw new EdgesealError('OVERSIZED', `${path}: expected at most ${maxLength} bytes, found ${file.size}`);
  return { atMost: maxLength };
}

// Streams a file through sha256. Refuses symlinks (O_NOFOLLOW) and anything but a regular file or
// block device; stops reading as soon as a file passes maxLength (OVERSIZED), and notices a file
// that changed size while it was being read (LENGTH_MISMATCH). See readPlan for block devices.
// opts.onProgress: bytes hashed so far, after each chunk (progress of long digests).
// opts.buffer: a CHUNK-sized buffer to read into, for a caller hashing many files (a digest worker
// reuses one, so its memory stays flat instead of waiting for GC to free a buffer per file).
export async function digestFile(path: string, opts: { maxLength?: number; buffer?: Buffer; onProgress?: (done: number) => void } = {}): Promise<FileDigest> {
  const fh = await openNoFollow(path);
  try {
    const st = await fh.stat();
    if (!st.isFile() && !st.isBlockDevice()) {
      throw new EdgesealError('UNSAFE_PATH', `${path}: expected a regular file, found another kind of file`);
    }
    const plan = readPlan({ blockDevice: st.isBlockDevice(), size: st.size }, opts.maxLength, path);
    const hash = createHash('sha256');
    const buf = opts.buffer?.length === CHUNK ? opts.buffer : Buffer.allocUnsafe(CHUNK);
    let length = 0;
    for (;;) {
      const want = plan.exactly === undefined ? CHUNK : Math.min(CHUNK, plan.exactly - length);
      if (want === 0) break;
      const { bytesRead } = await fh.read(buf, 0, want, null);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (plan.atMost !== undefined && length > plan.atMost) {
        throw new EdgesealError('OVERSIZED', `${path}: expected at most ${plan.atMost} bytes, read more than that`);
      }
      hash.update(buf.subarray(0, bytesRead));
      opts.onProgress?.(length);
    }
    if (st.isFile() && length !== st.size) {
      throw new EdgesealError('LENGTH_MISMATCH', `${path}: size was ${st.size} bytes when opened, read ${length} (file changed while reading)`);
    }
    return { length, sha256: hash.digest('hex') };
  } finally {
    await fh.close();
  }
}

async function openNoFollow(path: string): ReturnType<typeof open> {
  try {
    return await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw new EdgesealError('UNSAFE_PATH', `${path}: expected a file, found a symlink`, { cause: err });
    throw new EdgesealError('STORAGE_ERROR', `${path}: cannot open: ${(err as Error).message}`, { cause: err });
  }
}
