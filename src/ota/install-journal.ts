import { readFile } from 'node:fs/promises';
import { EdgesealError, ERROR_CODES, type ErrorCode } from '../core/errors.js';
import { writeFileAtomic } from '../store/atomic-write.js';
import { isSlotId, type SlotId } from './slot.js';
import type { TargetRef } from './target-path.js';

// The persisted install state. Every transition is one atomic write; a state names what is known to
// be durably done (staged) or what has been decided (committed, rolled-back, abandoned) and may still
// need its idempotent clean-up after a crash. downloaded, verified and staging are only ever found in
// journals an older agent wrote (it downloaded into <stateDir>/agent/staging first): see install.ts.
export const INSTALL_STATES = ['idle', 'downloading', 'downloaded', 'verified', 'staging', 'staged', 'trying', 'health', 'committed', 'rolled-back', 'abandoned'] as const;
export type InstallState = (typeof INSTALL_STATES)[number];

export interface InstallTarget extends TargetRef {
  readonly version: string;
  readonly securityVersion: number;
}

export interface InstallRecord {
  readonly target: InstallTarget;
  readonly fromSlot: SlotId; // the verified slot the device ran when the install began
  readonly toSlot: SlotId; // the slot being written
  readonly floorsRaised: boolean;
  readonly healthRuns?: number; // health windows started on this trial (a restart inside one starts another)
  // downloading: bytes [0, offset) of toSlot are fdatasync'd stream output; restarted: the one retry from 0 is spent
  readonly offset?: number;
  readonly restarted?: boolean;
  // rolled-back / abandoned: why; committed: why the floors were not raised (FLOOR_VIOLATION)
  readonly outcome?: { readonly code: ErrorCode; readonly message: string };
}

export interface InstallJournal {
  readonly seq: number; // +1 per transition, so observers can order them
  readonly state: InstallState;
  readonly install: InstallRecord | null;
}

export const IDLE: InstallJournal = { seq: 0, state: 'idle', install: null };

function bad(path: string, what: string, raw: unknown): EdgesealError {
  return new EdgesealError('STORAGE_ERROR', `install journal ${path}: expected ${what}, found ${JSON.stringify(raw)}`);
}

function parseTarget(path: string, t: unknown): InstallTarget {
  const r = (t ?? {}) as Record<string, unknown>;
  const ok =
    typeof r.name === 'string' &&
    typeof r.sha256 === 'string' &&
    typeof r.version === 'string' &&
    Number.isSafeInteger(r.length) &&
    Number.isSafeInteger(r.securityVersion);
  if (!ok) throw bad(path, 'a target {name, length, sha256, version, securityVersion}', t);
  return { name: r.name as string, length: r.length as number, sha256: r.sha256 as string, version: r.version as string, securityVersion: r.securityVersion as number };
}

// `outcome` is any JSON on disk: null, a number or a list must be refused, not dereferenced.
function isOutcome(o: unknown): o is { code: ErrorCode; message: string } {
  if (typeof o !== 'object' || o === null) return false;
  const { code, message } = o as Record<string, unknown>;
  return ERROR_CODES.includes(code as ErrorCode) && typeof message === 'string';
}

function parseRecord(path: string, rec: unknown): InstallRecord {
  const r = (rec ?? {}) as Record<string, unknown>;
  if (!isSlotId(r.fromSlot) || !isSlotId(r.toSlot) || r.fromSlot === r.toSlot || typeof r.floorsRaised !== 'boolean') {
    throw bad(path, 'an install record with two different slots', rec);
  }
  const o = r.outcome;
  if (o !== undefined && !isOutcome(o)) throw bad(path, 'an outcome {code, message}', o);
  if (r.healthRuns !== undefined && !(Number.isSafeInteger(r.healthRuns) && (r.healthRuns as number) >= 0)) throw bad(path, 'healthRuns as a count', r.healthRuns);
  if (r.offset !== undefined && !(Number.isSafeInteger(r.offset) && (r.offset as number) >= 0)) throw bad(path, 'offset as a byte count', r.offset);
  if (r.restarted !== undefined && typeof r.restarted !== 'boolean') throw bad(path, 'restarted as a boolean', r.restarted);
  return {
    target: parseTarget(path, r.target),
    fromSlot: r.fromSlot,
    toSlot: r.toSlot,
    floorsRaised: r.floorsRaised,
    ...(r.healthRuns !== undefined ? { healthRuns: r.healthRuns as number } : {}),
    ...(r.offset !== undefined ? { offset: r.offset as number } : {}),
    ...(r.restarted !== undefined ? { restarted: r.restarted } : {}),
    ...(o ? { outcome: { code: o.code, message: o.message } } : {}),
  };
}

// Reads the journal; a device that never installed anything has none and is idle.
export async function readJournal(path: string): Promise<InstallJournal> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return IDLE;
    throw new EdgesealError('STORAGE_ERROR', `install journal ${path}: ${(err as Error).message}`, { cause: err });
  }
  return parseJournal(path, text);
}

// The journal in `text` (read from `path`), or STORAGE_ERROR saying what is wrong with it.
export function parseJournal(path: string, text: string): InstallJournal {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new EdgesealError('STORAGE_ERROR', `install journal ${path}: expected JSON, found a parse error: ${(err as Error).message}`, { cause: err });
  }
  const j = (raw ?? {}) as Record<string, unknown>;
  if (!INSTALL_STATES.includes(j.state as InstallState) || !Number.isSafeInteger(j.seq)) throw bad(path, 'a {seq, state, install} journal', raw);
  const state = j.state as InstallState;
  if (state === 'idle') return { seq: j.seq as number, state, install: null };
  return { seq: j.seq as number, state, install: parseRecord(path, j.install) };
}

// A commit whose floor step has not settled (floors neither raised nor refused): resume() finishes it.
export function floorsPending(j: InstallJournal): boolean {
  return j.state === 'committed' && j.install !== null && !j.install.floorsRaised && j.install.outcome === undefined;
}

export function writeJournal(path: string, journal: InstallJournal): Promise<void> {
  return writeFileAtomic(path, `${JSON.stringify(journal, null, 2)}\n`);
}
