import { EdgesealError } from '../core/errors.js';
import { tufKeyOf, type PublicKeyInput } from '../crypto/tuf-key.js';
import type { KeyJson, RoleJson } from './tuf-json.js';

export interface KeyRotation {
  readonly add?: readonly PublicKeyInput[];
  readonly remove?: readonly string[]; // keyids
  readonly threshold?: number;
}

// Applies a key change to a role entry and the key map it draws from (root.keys or delegations.keys).
export function setRoleKeys(keys: Record<string, KeyJson>, entry: RoleJson, role: string, change: KeyRotation): void {
  for (const k of change.add ?? []) {
    keys[k.keyid] = tufKeyOf(k);
    if (!entry.keyids.includes(k.keyid)) entry.keyids.push(k.keyid);
  }
  for (const id of change.remove ?? []) {
    if (!entry.keyids.includes(id)) throw new EdgesealError('USAGE', `role ${role}: expected key ${id.slice(0, 12)}… among its keys, found it absent`);
    entry.keyids = entry.keyids.filter((k) => k !== id);
  }
  entry.threshold = change.threshold ?? entry.threshold;
  if (!Number.isSafeInteger(entry.threshold) || entry.threshold < 1 || entry.threshold > entry.keyids.length) {
    throw new EdgesealError('USAGE', `role ${role}: expected a threshold between 1 and its ${entry.keyids.length} keys, found ${entry.threshold}`);
  }
}

// Drops keys no role uses any more, so a rotated-out key cannot be re-listed by accident.
export function pruneUnusedKeys(keys: Record<string, KeyJson>, roles: readonly RoleJson[]): void {
  const used = new Set(roles.flatMap((r) => r.keyids));
  for (const id of Object.keys(keys)) if (!used.has(id)) delete keys[id];
}
