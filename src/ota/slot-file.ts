import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { digestFile, type FileDigest } from '../io/file-digest.js';
import { fsyncDir } from '../store/atomic-write.js';
import type { ImageRef, SlotBackend, SlotId } from './slot.js';
import { assertSame, copyInto, storageError } from './slot-io.js';

// Slots as plain files (app bundles, or a slot directory's image file): A and B each a path.
export class FileSlotBackend implements SlotBackend {
  constructor(private readonly paths: Readonly<Record<SlotId, string>>) {}

  location(slot: SlotId): string {
    return this.paths[slot];
  }

  // temp file → fsync → rename → fsync dir: a crash leaves the old slot file or the new one, never a
  // torn one. The temp name is fixed so a retry after a crash overwrites the leftover.
  async stage(slot: SlotId, imagePath: string, image: ImageRef): Promise<void> {
    const path = this.paths[slot];
    const tmp = `${path}.staging`;
    try {
      const fh = await open(tmp, 'w', 0o644);
      try {
        await copyInto(imagePath, fh, image.length);
      } finally {
        await fh.close();
      }
      await rename(tmp, path);
      await fsyncDir(dirname(path));
    } catch (err) {
      throw storageError(`staging slot ${slot} (${path})`, err);
    }
    assertSame(`slot ${slot} (${path}) after staging`, await this.measure(slot, image.length), image);
  }

  measure(slot: SlotId, length: number): Promise<FileDigest> {
    return digestFile(this.paths[slot], { maxLength: length });
  }
}
