import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { EdgesealError } from '../core/errors.js';
import type { FileDigest } from '../io/file-digest.js';
import type { ImageRef } from './slot.js';

// Byte-level helpers the slot backends share. 1 MiB chunks, as in digestFile: constant memory.
const CHUNK = 1024 * 1024;

// Copies exactly `length` bytes of `src` to the start of `dst`, then flushes `dst` to the device.
export async function copyInto(src: string, dst: FileHandle, length: number): Promise<void> {
  const fh = await open(src, 'r');
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(CHUNK, length - done), done);
      if (bytesRead === 0) throw new EdgesealError('LENGTH_MISMATCH', `${src}: expected ${length} bytes, found ${done}`);
      await dst.write(buf, 0, bytesRead, done);
      done += bytesRead;
    }
    await dst.sync();
  } finally {
    await fh.close();
  }
}

// sha256 of the first `length` bytes of a file or block device (a partition is larger than its image).
export async function digestPrefix(path: string, length: number): Promise<FileDigest> {
  const fh = await open(path, 'r');
  try {
    const hash = createHash('sha256');
    const buf = Buffer.allocUnsafe(CHUNK);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(CHUNK, length - done), done);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
      done += bytesRead;
    }
    return { length: done, sha256: hash.digest('hex') };
  } finally {
    await fh.close();
  }
}

// Compares what a slot holds with the signed image; DIGEST_MISMATCH / LENGTH_MISMATCH name both.
export function assertSame(where: string, found: FileDigest, image: ImageRef): void {
  if (found.length !== image.length) throw new EdgesealError('LENGTH_MISMATCH', `${where}: expected ${image.length} bytes, found ${found.length}`);
  if (found.sha256 !== image.sha256) throw new EdgesealError('DIGEST_MISMATCH', `${where}: expected sha256 ${image.sha256}, found ${found.sha256}`);
}

// Wraps fs errors from slot writes into STORAGE_ERROR; our own coded errors pass through.
export function storageError(where: string, err: unknown): EdgesealError {
  if (err instanceof EdgesealError) return err;
  return new EdgesealError('STORAGE_ERROR', `${where}: ${(err as Error).message}`, { cause: err });
}
