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

// An open slot, written in place at byte offsets while the download streams in. Nothing it writes
// counts until the installer has re-read the slot and checked it against the signed target.
export interface SlotWriter {
  write(chunk: Uint8Array, position: number): Promise<void>;
  datasync(): Promise<void>; // fdatasync: the bytes written so far survive a power cut
  // the image ends at `length`: a file slot drops a longer old tail (a partition keeps its size)
  finish(length: number): Promise<void>;
  close(): Promise<void>;
}

// Where images live. The installer streams into the inactive slot through open(), then re-reads it
// with measure(); the boot selector is pointed at a slot only after that re-read matched.
export interface SlotBackend {
  // Opens `slot` to receive `image`; fresh: the write starts at byte 0. INSUFFICIENT_SPACE when the
  // slot cannot hold image.length bytes; a partition is never created.
  open(slot: SlotId, image: ImageRef, fresh: boolean): Promise<SlotWriter>;
  // Bytes the slot can hold: a partition's size, or a file slot's free space plus its current file.
  capacity(slot: SlotId): Promise<number>;
  // Digest of the image held by `slot` (the first `length` bytes for a partition); onProgress: bytes so far.
  measure(slot: SlotId, length: number, onProgress?: (done: number) => void): Promise<FileDigest>;
  // The file or device behind the slot, for messages and status.
  location(slot: SlotId): string;
}
