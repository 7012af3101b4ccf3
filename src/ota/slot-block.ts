import { open } from 'node:fs/promises';
import type { FileDigest } from '../io/file-digest.js';
import type { ImageRef, SlotBackend, SlotId, SlotWriter } from './slot.js';
import { assertFits, digestPrefix, handleWriter, storageError } from './slot-io.js';
import { partitionBytes } from './slot-size.js';

// Slots as partitions (/dev/mmcblk0p2, …; tests use a plain file): the image is written in place from
// byte 0; the installer re-reads and re-hashes it before the slot counts as staged.
export class BlockSlotBackend implements SlotBackend {
  // sysfsRoot: where /sys/dev/block lives (tests point it at a fake tree)
  constructor(
    private readonly devices: Readonly<Record<SlotId, string>>,
    private readonly sysfsRoot = '/sys',
  ) {}

  location(slot: SlotId): string {
    return this.devices[slot];
  }

  async capacity(slot: SlotId): Promise<number> {
    try {
      return await partitionBytes(this.devices[slot], this.sysfsRoot);
    } catch (err) {
      throw storageError(`sizing slot ${slot} (${this.devices[slot]})`, err);
    }
  }

  // fresh or resuming alike: a partition is written in place, never truncated
  async open(slot: SlotId, image: ImageRef, _fresh?: boolean): Promise<SlotWriter> {
    const device = this.devices[slot];
    assertFits(`slot ${slot} (${device})`, await this.capacity(slot), image);
    try {
      // 'r+': never create or truncate — the path must be an existing partition (or its stand-in file).
      return handleWriter(`slot ${slot} (${device})`, await open(device, 'r+'));
    } catch (err) {
      throw storageError(`opening slot ${slot} (${device})`, err);
    }
  }

  async measure(slot: SlotId, length: number, onProgress?: (done: number) => void): Promise<FileDigest> {
    try {
      return await digestPrefix(this.devices[slot], length, onProgress);
    } catch (err) {
      throw storageError(`reading slot ${slot} (${this.devices[slot]})`, err);
    }
  }
}
