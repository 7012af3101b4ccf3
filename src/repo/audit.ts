import { createHash } from 'node:crypto';
import { canonicalize } from '../core/canonical-json.js';
import { EdgesealError } from '../core/errors.js';

// The ceremony audit log: every prepare, signature, import and publish, hash-chained (each entry names
// the id of the one before it where it was written) so an entry cannot be dropped or edited unnoticed.
// It lives in repo.json and travels in every ceremony bundle.
export interface AuditEntry {
  readonly id: string; // sha256 of the canonical entry without id
  readonly prev: string | null;
  readonly at: string; // ISO time
  readonly action: 'prepare' | 'sign' | 'import' | 'complete';
  readonly role: string;
  readonly version: number;
  readonly by: string; // who ran it (--as, default user@host)
  readonly keyid?: string;
  readonly key?: string; // where the key lives (key file, pkcs11 token …, signer command …)
  readonly note?: string;
}

type Draft = Omit<AuditEntry, 'id' | 'prev'>;

function idOf(entry: Omit<AuditEntry, 'id'>): string {
  return createHash('sha256').update(canonicalize(entry)).digest('hex');
}

export function appendAudit(log: readonly AuditEntry[], draft: Draft): AuditEntry[] {
  const body = { ...draft, prev: log.at(-1)?.id ?? null };
  return [...log, { ...body, id: idOf(body) }];
}

// Checks every entry's id and that its `prev` is an entry earlier in the log.
export function verifyAudit(log: readonly AuditEntry[], what: string): void {
  const seen = new Set<string>();
  for (const [i, e] of log.entries()) {
    const { id, ...body } = e;
    if (idOf(body) !== id) throw new EdgesealError('MALFORMED_METADATA', `${what}: audit entry ${i}: expected id ${idOf(body).slice(0, 16)}, found ${String(id).slice(0, 16)} (edited)`);
    if (e.prev !== null && !seen.has(e.prev)) throw new EdgesealError('MALFORMED_METADATA', `${what}: audit entry ${i}: expected its predecessor ${e.prev.slice(0, 16)} earlier in the log, found it missing (entries dropped or reordered)`);
    seen.add(id);
  }
}

// Appends the entries of `incoming` this log does not hold yet, in their order (logs only grow).
export function mergeAudit(log: readonly AuditEntry[], incoming: readonly AuditEntry[]): AuditEntry[] {
  const have = new Set(log.map((e) => e.id));
  return [...log, ...incoming.filter((e) => !have.has(e.id))];
}
