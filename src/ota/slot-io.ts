import { createHash, type Hash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { EdgesealError } from '../core/errors.js';
import type { FileDigest } from '../io/file-digest.js';
import type { ImageRef, SlotWriter } from './slot.js';

// Byte-level helpers the slot backends share. 1 MiB chunks, as in digestFile: constant memory.
const CHUNK = 1024 * 1024;

// A SlotWriter over an open file or partition; `finish` is the backend's end-of-image step.
// I/O failures come back as STORAGE_ERROR naming `where`.
export function handleWriter(where: string, fh: FileHandle, finish: (length: number) => Promise<void> = () => Promise.resolve()): SlotWriter {
  const wrap = <T>(what: string, p: Promise<T>): Promise<T> => p.catch((err: unknown) => Promise.reject(storageError(`${what} ${where}`, err)));
  return {
    write: async (chunk, position) => {
      let done = 0;
      while (done < chunk.length) done += (await wrap('writing', fh.write(chunk, done, chunk.length - done, position + done))).bytesWritten;
    },
    datasync: () => wrap('syncing', fh.datasync()),
    finish: (length) => wrap('finishing', finish(length)),
    close: () => wrap('closing', fh.close()),
  };
}

// Feeds the first `length` bytes of a file or block device into `hash`; returns how many there were
// (fewer when the file is shorter). onProgress: bytes hashed so far, after each chunk.
export async function hashPrefix(path: string, length: number, hash: Hash, onProgress?: (done: number) => void): Promise<number> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(CHUNK, length - done), done);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
      done += bytesRead;
      onProgress?.(done);
    }
    return done;
  } finally {
    await fh.close();
  }
}

// sha256 of the first `length` bytes of a file or block device (a partition is larger than its image).
export async function digestPrefix(path: string, length: number, onProgress?: (done: number) => void): Promise<FileDigest> {
  const hash = createHash('sha256');
  const done = await hashPrefix(path, length, hash, onProgress);
  return { length: done, sha256: hash.digest('hex') };
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

// INSUFFICIENT_SPACE unless a slot of `capacity` bytes holds the image.
export function assertFits(where: string, capacity: number, image: ImageRef): void {
  if (capacity < image.length) throw new EdgesealError('INSUFFICIENT_SPACE', `${where}: expected room for ${image.length} bytes, found ${capacity}`);
}
