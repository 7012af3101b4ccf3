import type { FileDigest } from '../io/file-digest.js';

// A/B slots: the device runs from one slot while updates are written to the other.
export const SLOT_IDS = ['A', 'B'] as const;
export type SlotId = (typeof SLOT_IDS)[number];

export function otherSlot(slot: SlotId): SlotId {
  return slot === 'A' ? 'B' : 'A';
}

export function isSlotId(value: unknown): value is SlotId {
  return value === 'A' || value === 'B';
}

export interface ImageRef {
  readonly length: number;
  readonly sha256: string; // lowercase hex
}

// Where images live. stage() must be durable and re-verified before it resolves: the install state
// machine records "staged" only after it, and the boot selector is pointed at a slot only after that.
export interface SlotBackend {
  // Writes the image at `imagePath` into `slot`, flushes it, re-reads it and checks length + sha256.
  stage(slot: SlotId, imagePath: string, image: ImageRef): Promise<void>;
  // Digest of the image held by `slot` (the first `length` bytes for a partition).
  measure(slot: SlotId, length: number): Promise<FileDigest>;
  // The file or device behind the slot, for messages and status.
  location(slot: SlotId): string;
}
