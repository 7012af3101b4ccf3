import { readFile } from 'node:fs/promises';
import { EdgesealError } from '../core/errors.js';
import { raiseTimeFloor, type TimeFloor } from '../core/time-floor.js';
import { writeFileAtomic } from '../store/atomic-write.js';
import type { AgentPaths } from './agent-state.js';

// The persisted P5 time floor: <stateDir>/agent/time-floor.json { at: ISO, source }, written atomically.

export async function readTimeFloor(paths: AgentPaths): Promise<TimeFloor | undefined> {
  let text: string;
  try {
    text = await readFile(paths.timeFloor, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new EdgesealError('STORAGE_ERROR', `${paths.timeFloor}: ${(err as Error).message}`, { cause: err });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new EdgesealError('STORAGE_ERROR', `${paths.timeFloor}: expected JSON, found a parse error: ${(err as Error).message}`, { cause: err });
  }
  const { at, source } = (raw ?? {}) as Record<string, unknown>;
  const time = typeof at === 'string' ? new Date(at) : undefined;
  if (!time || !Number.isFinite(time.getTime()) || typeof source !== 'string') {
    throw new EdgesealError('STORAGE_ERROR', `${paths.timeFloor}: expected { at: ISO time, source }, found ${text.slice(0, 200)}`);
  }
  return { at: time, source };
}

// Raises the floor to `evidence` if that is newer; never lowers it. Concurrent raisers (update and
// revocation jobs) can at worst lose the smaller of two raises, which the next refresh repeats.
export async function raisePersistedTimeFloor(paths: AgentPaths, evidence: Date, source: string): Promise<TimeFloor | undefined> {
  const next = raiseTimeFloor(await readTimeFloor(paths), evidence, source);
  if (next) await writeFileAtomic(paths.timeFloor, `${JSON.stringify({ at: next.at.toISOString(), source: next.source })}\n`);
  return next;
}
