import type { EventInput } from '../event.js';

// Drop policy when the outbox is full (documented in docs/telemetry.md):
//   priority 2 "security": verification, decision, install/commit/rollback, anchor and revocation
//                          events, the outbox-drop record of what was dropped, and any refused/error
//                          verdict — forensics need these most;
//   priority 1 "routine":  update checks, agent start/stop, fleet commands (accepted or not: whoever
//                          can write the cmd topic must not be able to flush real verdicts out);
//   priority 0 "heartbeat": periodic metrics — the next one supersedes it.
// To admit a new entry, evict the oldest entries of the lowest priority first, but never an entry of
// higher priority than the newcomer; if that cannot make room, the newcomer itself is dropped.
export type Priority = 0 | 1 | 2;
export const DROP_CLASSES = ['heartbeat', 'routine', 'security'] as const;
export type DropClass = (typeof DROP_CLASSES)[number];

const SECURITY_TYPES: ReadonlySet<EventInput['type']> = new Set<EventInput['type']>([
  'boot-verification', 'update-decision', 'install', 'commit', 'rollback', 'anchor-status', 'revocation-refresh', 'outbox-drop',
]);

export function priorityOf(e: Pick<EventInput, 'type' | 'verdict'>): Priority {
  if (e.type === 'metrics') return 0;
  if (e.type === 'command') return 1;
  if (SECURITY_TYPES.has(e.type) || e.verdict === 'refused' || e.verdict === 'error') return 2;
  return 1;
}

export function classOf(p: Priority): DropClass {
  return DROP_CLASSES[p];
}

export interface Limits {
  maxEntries: number;
  maxBytes: number;
}

export interface Sized {
  seq: number;
  priority: Priority;
  size: number;
}

export type Admission = { admit: true; evict: number[] } | { admit: false };

// Decides, without touching storage, which queued entries to evict so that `incoming` fits.
export function planAdmission(queued: readonly Sized[], incoming: Omit<Sized, 'seq'>, limits: Limits): Admission {
  let count = queued.length + 1;
  let bytes = queued.reduce((n, e) => n + e.size, 0) + incoming.size;
  if (incoming.size > limits.maxBytes) return { admit: false };
  const candidates = queued
    .filter((e) => e.priority <= incoming.priority)
    .sort((a, b) => a.priority - b.priority || a.seq - b.seq);
  const evict: number[] = [];
  for (const e of candidates) {
    if (count <= limits.maxEntries && bytes <= limits.maxBytes) break;
    evict.push(e.seq);
    count -= 1;
    bytes -= e.size;
  }
  if (count > limits.maxEntries || bytes > limits.maxBytes) return { admit: false };
  return { admit: true, evict };
}
