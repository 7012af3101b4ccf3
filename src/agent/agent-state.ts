import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EdgesealError, type ErrorCode } from '../core/errors.js';
import type { InstallTarget } from '../ota/install-journal.js';
import type { SlotId } from '../ota/slot.js';
import { writeFileAtomic } from '../store/atomic-write.js';

// What the agent keeps in <stateDir> besides the trust files: the TUF metadata cache (tuf-js's
// promoted metadata set, see src/tuf/cache/), the install journal and staging dir, which image each A/B slot
// holds, and the last verdicts and schedules that `edgeseal status` shows without the daemon.
export interface AgentPaths {
  readonly metadataCache: string; // generations and the `current` link (src/tuf/cache/generations.ts)
  readonly metadataDir: string; // the promoted set: what the boot check and the gate read
  readonly dir: string;
  readonly journal: string;
  readonly staging: string;
  readonly slots: string;
  readonly status: string; // one file per part (boot, update, floors, …): writers never race on a merge
  readonly timeFloor: string; // P5: newest time evidence accepted (src/agent/time-floor-store.ts)
  readonly records: string; // one install record per installed image (src/agent/install-records.ts)
}

export function agentPaths(stateDir: string): AgentPaths {
  const dir = join(stateDir, 'agent');
  return {
    metadataCache: join(stateDir, 'metadata'),
    metadataDir: join(stateDir, 'metadata', 'current'),
    dir,
    journal: join(dir, 'install.json'),
    staging: join(dir, 'staging'),
    slots: join(dir, 'slots.json'),
    status: join(dir, 'status'),
    timeFloor: join(dir, 'time-floor.json'),
    records: join(dir, 'records'),
  };
}

// The target each slot was staged with (the factory image of a slot is named by the config instead).
export type SlotRecords = Partial<Record<SlotId, InstallTarget>>;

export interface ImageStatus {
  readonly target: string;
  readonly kind: string;
  readonly location: string;
  readonly slot?: SlotId;
  readonly verdict: 'verified' | 'refused';
  readonly code?: ErrorCode;
  readonly message?: string;
  readonly version?: string;
  readonly sha256?: string;
  readonly keyids?: readonly string[];
}

export interface AgentStatus {
  readonly boot?: {
    readonly at: string;
    readonly ok: boolean;
    readonly action: string;
    readonly code?: ErrorCode;
    readonly message?: string;
    readonly rootVersion?: number;
    readonly images: readonly ImageStatus[];
    // the held revocation list was not the one the promoted metadata names (REVOCATION_UNAUTHENTICATED)
    readonly revocation?: { readonly code: ErrorCode; readonly message: string };
  };
  readonly update?: { readonly at: string; readonly action: string; readonly code?: ErrorCode; readonly message: string; readonly target?: string; readonly version?: string };
  readonly floors?: { readonly at: string; readonly rootVersion: number; readonly securityVersion: number; readonly revocationVersion: number; readonly targetsVersion: number };
  readonly schedules?: Readonly<Record<string, string | null>>; // job → next run (ISO), as of the last daemon start
  readonly pid?: number;
  // the boot-time clock check against the time floor (P5)
  readonly clock?: { readonly at: string; readonly ok: boolean; readonly floor?: string; readonly code?: ErrorCode; readonly message?: string };
}

async function readJson<T>(path: string, fallback: T): Promise<T> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return fallback;
    throw new EdgesealError('STORAGE_ERROR', `${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new EdgesealError('STORAGE_ERROR', `${path}: expected JSON, found a parse error: ${(err as Error).message}`, { cause: err });
  }
}

export const readSlotRecords = (p: AgentPaths): Promise<SlotRecords> => readJson<SlotRecords>(p.slots, {});
export const writeSlotRecords = (p: AgentPaths, r: SlotRecords): Promise<void> => writeFileAtomic(p.slots, `${JSON.stringify(r, null, 2)}\n`);

const STATUS_PARTS = ['boot', 'update', 'floors', 'schedules', 'pid', 'clock'] as const;

export async function readAgentStatus(p: AgentPaths): Promise<AgentStatus> {
  const parts = await Promise.all(STATUS_PARTS.map(async (k) => [k, await readJson<unknown>(join(p.status, `${k}.json`), undefined)] as const));
  return Object.fromEntries(parts.filter(([, v]) => v !== undefined));
}

// Writes each given part atomically to its own file.
export async function updateAgentStatus(p: AgentPaths, part: Partial<AgentStatus>): Promise<void> {
  for (const [k, v] of Object.entries(part)) if (v !== undefined) await writeFileAtomic(join(p.status, `${k}.json`), `${JSON.stringify(v, null, 2)}\n`);
}

// When trust cannot be established nothing can be signed (the report key is sealed): the refusal is
// at least kept where `edgeseal status` and an operator will find it.
export async function recordTrustFailure(p: AgentPaths, code: ErrorCode, message: string, now: Date): Promise<void> {
  await updateAgentStatus(p, { boot: { at: now.toISOString(), ok: false, action: 'untrusted', code, message, images: [] } });
}
