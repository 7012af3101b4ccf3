import type { ImageConfig } from '../config/schema.js';
import { digestFile, type FileDigest } from '../io/file-digest.js';
import type { InstallJournal } from '../ota/install-journal.js';
import type { SlotId } from '../ota/slot.js';
import type { SlotRecords } from './agent-state.js';
import type { AbImage } from './device.js';

// Which bytes on this device must verify, and as which TUF target: every fixed image at its path,
// and the A/B image in the slot the bootloader started, under the target that slot was staged with.
export interface InstalledImage {
  readonly target: string;
  readonly kind: ImageConfig['kind'];
  readonly location: string;
  readonly slot?: SlotId;
  readonly file?: string; // a file digestFile reads (so a digest worker can): fixed images
  // streamed digest of at most `length` bytes (OVERSIZED when a file is longer than that)
  digest(length: number): Promise<FileDigest>;
}

export function fixedImage(image: ImageConfig & { path: string }): InstalledImage {
  return { target: image.target, kind: image.kind, location: image.path, file: image.path, digest: (length) => digestFile(image.path, { maxLength: length }) };
}

// The target a slot holds: the staged one from the journal during its trial, else its record, else
// (never updated) the factory image named in the config.
export function slotTarget(ab: AbImage, slot: SlotId, records: SlotRecords, journal: InstallJournal): string {
  const inTrial = journal.install && journal.install.toSlot === slot && ['trying', 'committed'].includes(journal.state);
  return inTrial ? journal.install.target.name : (records[slot]?.name ?? ab.image.target);
}

export function slotImage(ab: AbImage, slot: SlotId, target: string): InstalledImage {
  return { target, kind: ab.image.kind, location: ab.slots.location(slot), slot, digest: (length) => ab.slots.measure(slot, length) };
}
