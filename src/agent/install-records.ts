import { createHash } from 'node:crypto';
import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import { asEdgesealError, EdgesealError, isEdgesealError } from '../core/errors.js';
import type { SlotId } from '../ota/slot.js';
import { fsyncDir, writeFileAtomic } from '../store/atomic-write.js';
import { readCapped } from '../tuf/metadata-files.js';
import { INSTALL_RECORD_MAX_LENGTH, type InstallRecordDoc } from '../tuf/offline/install-record.js';
import type { AgentPaths } from './agent-state.js';
import type { Device } from './device.js';
import type { ImageVerifier } from './image-verifier.js';

// Where each installed image's install record lives (<stateDir>/agent/records), and when one is written:
// when an update is staged into a slot (from the metadata the gate chose it from) and when an image
// passes a boot check on today's metadata without one (factory images, devices upgraded from a version
// without records). docs/installed-images.md says what a record is for.

export const slotRecordKey = (slot: SlotId): string => `slot-${slot}`;
// a fixed image is known by where it is installed
export const fixedRecordKey = (path: string): string => `fixed-${createHash('sha256').update(path).digest('hex').slice(0, 16)}`;

const recordPath = (p: AgentPaths, key: string): string => join(p.records, `${key}.json`);

// The record's bytes, unverified (a hint until ImageVerifier.forRecord re-verifies it). A record that
// cannot be read is as good as none: the image is then judged on today's metadata alone.
export async function readInstallRecord(p: AgentPaths, key: string): Promise<Uint8Array | undefined> {
  try {
    return await readCapped(recordPath(p, key), INSTALL_RECORD_MAX_LENGTH);
  } catch {
    return undefined;
  }
}

export function writeInstallRecord(p: AgentPaths, key: string, record: InstallRecordDoc): Promise<void> {
  return writeFileAtomic(recordPath(p, key), `${JSON.stringify(record)}\n`);
}

// An update's record waits beside the slot's until the slot holds the staged bytes (the installer's
// 'staged' step), so a failed install leaves the slot's old record, which still matches it.
const pendingKey = (slot: SlotId): string => `pending-${slotRecordKey(slot)}`;

export const stageSlotRecord = (p: AgentPaths, slot: SlotId, record: InstallRecordDoc): Promise<void> => writeInstallRecord(p, pendingKey(slot), record);

// Idempotent: after a crash between the rename and the journal's 'staged', resume finds nothing pending.
export async function promoteSlotRecord(p: AgentPaths, slot: SlotId): Promise<void> {
  try {
    await rename(recordPath(p, pendingKey(slot)), recordPath(p, slotRecordKey(slot)));
    await fsyncDir(p.records);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new EdgesealError('STORAGE_ERROR', `install record for slot ${slot}: could not move it into place: ${(err as Error).message}`, { cause: err });
  }
}

// Writes `target`'s record from today's metadata; a failure is logged, never fatal (the record is an aid).
export async function keepRecord(dev: Device, verifier: ImageVerifier, key: string, target: string, now: Date): Promise<void> {
  const log = dev.logger.child({ component: 'install-record' });
  try {
    await writeInstallRecord(dev.paths, key, verifier.recordFor(target, now));
    log.info(`install record ${key} written for ${target}`, { rootVersion: verifier.rootVersion });
  } catch (err) {
    const e = asEdgesealError(err);
    log.warn(`install record ${key} for ${target} not written [${e.code}] ${e.message}`, { storage: isEdgesealError(err, 'STORAGE_ERROR') });
  }
}
