import { open } from 'node:fs/promises';
import { EdgesealError } from '../core/errors.js';
import type { FileDigest } from '../io/file-digest.js';
import type { ImageRef, SlotBackend, SlotId } from './slot.js';
import { assertSame, copyInto, digestPrefix, storageError } from './slot-io.js';

// Slots as partitions (/dev/mmcblk0p2, …; tests use a plain file): the image is written from byte 0,
// flushed, then read back and re-hashed before the slot counts as staged.
export class BlockSlotBackend implements SlotBackend {
  constructor(private readonly devices: Readonly<Record<SlotId, string>>) {}

  location(slot: SlotId): string {
    return this.devices[slot];
  }

  async stage(slot: SlotId, imagePath: string, image: ImageRef): Promise<void> {
    const device = this.devices[slot];
    try {
      // 'r+': never create or truncate — the path must be an existing partition (or its stand-in file).
      const fh = await open(device, 'r+');
      try {
        const st = await fh.stat();
        if (st.isFile() && st.size < image.length) {
          throw new EdgesealError('INSUFFICIENT_SPACE', `slot ${slot} (${device}): expected room for ${image.length} bytes, found ${st.size}`);
        }
        await copyInto(imagePath, fh, image.length);
      } finally {
        await fh.close();
      }
    } catch (err) {
      throw storageError(`staging slot ${slot} (${device})`, err);
    }
    // Re-read through a fresh descriptor: catches short or misdirected writes before we boot from it.
    assertSame(`slot ${slot} (${device}) after staging`, await this.measure(slot, image.length), image);
  }

  async measure(slot: SlotId, length: number): Promise<FileDigest> {
    try {
      return await digestPrefix(this.devices[slot], length);
    } catch (err) {
      throw storageError(`reading slot ${slot} (${this.devices[slot]})`, err);
    }
  }
}
