import { open } from 'node:fs/promises';
import { digestFile, type FileDigest } from '../io/file-digest.js';
import type { ImageRef, SlotBackend, SlotId, SlotWriter } from './slot.js';
import { assertFits, handleWriter, storageError } from './slot-io.js';
import { fileSlotBytes } from './slot-size.js';

// Slots as plain files (app bundles, or a slot directory's image file): A and B each a path. The
// inactive file is written in place — it is not bootable while it holds unverified bytes — and cut to
// the image's length at the end, so no second copy of the image ever needs room on the disk.
export class FileSlotBackend implements SlotBackend {
  constructor(private readonly paths: Readonly<Record<SlotId, string>>) {}

  location(slot: SlotId): string {
    return this.paths[slot];
  }

  async capacity(slot: SlotId): Promise<number> {
    try {
      return await fileSlotBytes(this.paths[slot]);
    } catch (err) {
      throw storageError(`sizing slot ${slot} (${this.paths[slot]})`, err);
    }
  }

  async open(slot: SlotId, image: ImageRef, fresh: boolean): Promise<SlotWriter> {
    const path = this.paths[slot];
    if (fresh) assertFits(`slot ${slot} (${path})`, await this.capacity(slot), image);
    try {
      // fresh: create or empty the file; resuming: keep the bytes already written ('r+' never creates)
      const fh = await open(path, fresh ? 'w' : 'r+', 0o644);
      return handleWriter(`slot ${slot} (${path})`, fh, (length) => fh.truncate(length));
    } catch (err) {
      throw storageError(`opening slot ${slot} (${path})`, err);
    }
  }

  measure(slot: SlotId, length: number, onProgress?: (done: number) => void): Promise<FileDigest> {
    return digestFile(this.paths[slot], { maxLength: length, ...(onProgress ? { onProgress } : {}) });
  }
}
