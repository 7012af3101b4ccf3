import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FileDigest } from '../io/file-digest.js';
import { writeFileAtomic } from '../store/atomic-write.js';
import type { MeasurementEvent } from '../trust/event-log.js';

// The boot check's digests, recorded once per boot under runDir (tmpfs, gone at every boot) so the
// agent's boot sequence does not hash every image a second time (issue 12 C). Never a trust input on
// its own (ARCHITECTURE "Local state"): a recorded digest is used only if it is the one measured into
// the PCR in this boot, and the verdict is always judged again against the signed metadata.

export const BOOT_ID_PATH = '/proc/sys/kernel/random/boot_id';
const FORMAT = 1;

export interface RecordedDigest extends FileDigest {
  readonly target: string; // the signed target name it verified as
  readonly location: string;
  readonly slot?: string;
  readonly verifiedAt: string; // ISO 8601
}

export interface BootRecord {
  readonly format: typeof FORMAT;
  readonly bootId: string;
  readonly images: readonly RecordedDigest[];
}

export const bootRecordPath = (runDir: string): string => join(runDir, 'boot-check.json');

// This kernel boot's random id (a new one at every boot); undefined where the kernel has none.
export async function readBootId(path = BOOT_ID_PATH): Promise<string | undefined> {
  return (await readFile(path, 'utf8').catch(() => undefined))?.trim() || undefined;
}

// The record file, or why there is none to use (missing, unreadable, not a record of this format).
export async function readBootRecord(runDir: string): Promise<BootRecord | string> {
  const path = bootRecordPath(runDir);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    return `${path}: ${(err as Error).message}`;
  }
  try {
    const o = JSON.parse(text) as Partial<BootRecord>;
    if (o.format === FORMAT && typeof o.bootId === 'string' && Array.isArray(o.images) && o.images.every(isRecordedDigest)) return o as BootRecord;
  } catch {
    // reported below as not a record
  }
  return `${path}: expected a boot record (format ${FORMAT}, bootId, images), found ${JSON.stringify(text.slice(0, 80))}`;
}

function isRecordedDigest(v: unknown): v is RecordedDigest {
  const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  return typeof o.target === 'string' && typeof o.location === 'string' && typeof o.verifiedAt === 'string' && Number.isSafeInteger(o.length) && typeof o.sha256 === 'string' && /^[0-9a-f]{64}$/.test(o.sha256);
}

// Which recorded digests may stand in for hashing again (pure): the record must be from this boot,
// and each digest must be one the event log — already replayed to the TPM's PCR value — measured
// for that image in this boot. Any other record is refused whole, with the reason.
export function reusableDigests(record: BootRecord, bootId: string | undefined, measured: readonly MeasurementEvent[]): readonly RecordedDigest[] | string {
  if (bootId === undefined || record.bootId !== bootId) return `recorded in boot ${record.bootId}, expected this boot ${bootId ?? '(no boot id)'}`;
  for (const r of record.images) {
    if (!measured.some((e) => e.digest === r.sha256 && e.image === r.target)) {
      return `${r.target} at ${r.location}: recorded sha256 ${r.sha256}, expected a digest measured into the PCR in this boot, found none`;
    }
  }
  return record.images;
}

export async function writeBootRecord(runDir: string, record: BootRecord): Promise<void> {
  await writeFileAtomic(bootRecordPath(runDir), `${JSON.stringify(record)}\n`, 0o600);
}
