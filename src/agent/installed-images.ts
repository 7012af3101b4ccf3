import type { ImageConfig } from '../config/schema.js';
import { digestFile, type FileDigest } from '../io/file-digest.js';
import { readJournal, type InstallJournal } from '../ota/install-journal.js';
import type { SlotId } from '../ota/slot.js';
import { readSlotRecords, type SlotRecords } from './agent-state.js';
import type { AbImage, Device } from './device.js';
import { fixedRecordKey, readInstallRecord, slotRecordKey } from './install-records.js';

// Which bytes on this device must verify, and as which TUF target: every fixed image at its path,
// and the A/B image in the slot the bootloader started, under the target that slot was staged with.
export interface InstalledImage {
  readonly target: string;
  readonly kind: ImageConfig['kind'];
  readonly location: string;
  readonly slot?: SlotId;
  readonly recordKey: string;
  readonly record?: Uint8Array; // its install record as read from disk: unverified
  readonly file?: string; // a file digestFile reads (so a digest worker can): fixed images
  // streamed digest of at most `length` bytes (OVERSIZED when a file is longer than that); onProgress: bytes hashed so far
  digest(length: number, onProgress?: (done: number) => void): Promise<FileDigest>;
}

export function fixedImage(image: ImageConfig & { path: string }, record?: Uint8Array): InstalledImage {
  const recordKey = fixedRecordKey(image.path);
  return { target: image.target, kind: image.kind, location: image.path, file: image.path, recordKey, ...(record ? { record } : {}), digest: (length, onProgress) => digestFile(image.path, { maxLength: length, ...(onProgress ? { onProgress } : {}) }) };
}

// The target a slot holds: the staged one from the journal during its trial, else its record, else
// (never updated) the factory image named in the config.
export function slotTarget(ab: AbImage, slot: SlotId, records: SlotRecords, journal: InstallJournal): string {
  const inTrial = journal.install && journal.install.toSlot === slot && ['trying', 'health', 'committed'].includes(journal.state);
  return inTrial ? journal.install.target.name : (records[slot]?.name ?? ab.image.target);
}

// The A/B image in `slot`, with the target it was staged as and its install record.
export async function slotImage(dev: Device, ab: AbImage, slot: SlotId): Promise<InstalledImage> {
  const target = slotTarget(ab, slot, await readSlotRecords(dev.paths), await readJournal(dev.paths.journal));
  const recordKey = slotRecordKey(slot);
  const record = await readInstallRecord(dev.paths, recordKey);
  return { target, kind: ab.image.kind, location: ab.slots.location(slot), slot, recordKey, ...(record ? { record } : {}), digest: (length, onProgress) => ab.slots.measure(slot, length, onProgress) };
}
