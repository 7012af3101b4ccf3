import type { InstallJournal } from '../ota/install-journal.js';
import type { SlotId } from '../ota/slot.js';

// The slot an install is writing into, or has written and verified but not armed yet: its bytes are
// (part of) the new target, not what its slot record still names (`edgeseal status`). Pure: the
// journal alone says so.
export interface SlotInFlight {
  readonly slot: SlotId;
  readonly state: 'writing' | 'staged';
  readonly target: string;
  readonly version: string;
  readonly length: number;
  // writing: bytes fdatasync'd and journalled so far (a checkpoint every 32 MiB or 2 s); absent when an
  // older agent was copying from its staging dir (no offset is journalled then)
  readonly durableBytes?: number;
  readonly percent?: number; // of the signed length, rounded down
  readonly verified: boolean; // staged: the digest, length and a re-read of the slot matched the signed target
}

export function slotInFlight(journal: InstallJournal): SlotInFlight | undefined {
  const rec = journal.install;
  if (!rec) return undefined;
  const base = { slot: rec.toSlot, target: rec.target.name, version: rec.target.version, length: rec.target.length };
  if (journal.state === 'staged') return { ...base, state: 'staged', verified: true };
  if (journal.state === 'staging') return { ...base, state: 'writing', verified: false };
  if (journal.state !== 'downloading') return undefined;
  const durableBytes = Math.min(rec.offset ?? 0, rec.target.length);
  const percent = rec.target.length === 0 ? 100 : Math.floor((durableBytes / rec.target.length) * 100);
  return { ...base, state: 'writing', durableBytes, percent, verified: false };
}

// The line `edgeseal status` shows for the slot instead of its record.
export function inFlightText(f: SlotInFlight): string {
  if (f.state === 'staged') return `staged ${f.target} ${f.version} (verified, not armed yet)`;
  return `writing ${f.target} ${f.version} (${f.percent === undefined ? '' : `${f.percent} % written, `}unverified)`;
}
