import { lstat, readFile } from 'node:fs/promises';
import { EdgesealError } from '../core/errors.js';
import type { Signer } from '../crypto/signer.js';
import { signChecked } from '../crypto/signer.js';
import { writeFileAtomic } from '../store/atomic-write.js';
import { appendAudit, verifyAudit, type AuditEntry } from './audit.js';
import { withSignature, type PendingVersion, type Requirement } from './ceremony.js';
import type { Repository } from './repository.js';
import { canonicalBytes } from './signing.js';
import type { KeyJson } from './tuf-json.js';

// A ceremony bundle: what the pending versions are, which keys they need, the signatures collected so
// far and the audit log. It carries no private key and no working state, so it can travel (USB stick,
// email) to a machine that holds only an offline key. Its keys are a convenience for the signer; the
// workdir that imports it re-checks every signature against its own state.
export interface BundleRole {
  pending: PendingVersion;
  reqs: Requirement[];
  keys: Record<string, KeyJson>;
}

export interface CeremonyBundle {
  format: 'edgeseal-ceremony/1';
  exportedAt: string;
  roles: Record<string, BundleRole>;
  audit: AuditEntry[];
}

export function exportBundle(repo: Repository, now: Date): CeremonyBundle {
  const roles = repo.pendingRoles();
  if (roles.length === 0) throw new EdgesealError('USAGE', `ceremony export: expected a pending version, found none (start one with 'edgeseal repo ceremony prepare ROLE')`);
  const entries = roles.map((role): [string, BundleRole] => [role, { pending: repo.pendingVersion(role)!, ...repo.requirements(role) }]);
  return { format: 'edgeseal-ceremony/1', exportedAt: now.toISOString(), roles: Object.fromEntries(entries), audit: [...repo.auditLog()] };
}

function bad(what: string, found: unknown): EdgesealError {
  return new EdgesealError('MALFORMED_METADATA', `ceremony bundle: expected ${what}, found ${JSON.stringify(found)?.slice(0, 80)}`);
}

export function parseBundle(json: unknown): CeremonyBundle {
  const b = json as Partial<CeremonyBundle> | null;
  if (!b || b.format !== 'edgeseal-ceremony/1') throw bad('format "edgeseal-ceremony/1"', b?.format);
  if (!b.roles || typeof b.roles !== 'object' || !Array.isArray(b.audit)) throw bad('roles and an audit list', Object.keys(b));
  for (const [role, r] of Object.entries(b.roles)) {
    if (!r?.pending?.signed || !Array.isArray(r.pending.signatures) || !Array.isArray(r.reqs) || typeof r.keys !== 'object') throw bad(`a pending version, requirements and keys for ${role}`, r);
  }
  verifyAudit(b.audit, 'ceremony bundle');
  return b as CeremonyBundle;
}

// Signs a role's pending version in the bundle with the given signers (only keys it requires), on a
// machine without the workdir; each signature is checked and audited.
export function signBundle(bundle: CeremonyBundle, role: string, signers: readonly Signer[], who: { at: Date; by: string }): string[] {
  const r = bundle.roles[role] as BundleRole | undefined;
  if (!r) throw new EdgesealError('USAGE', `ceremony sign: expected a pending ${role} in the bundle, found ${Object.keys(bundle.roles).join(', ') || 'none'}`);
  const required = new Set(r.reqs.flatMap((q) => q.keyids));
  const usable = signers.filter((s) => required.has(s.keyid));
  if (usable.length === 0) throw new EdgesealError('USAGE', `ceremony sign ${role}: expected a key among ${[...required].map((k) => k.slice(0, 16)).join(', ')}, found only ${signers.map((s) => s.keyid.slice(0, 16)).join(', ') || 'none'}`);
  const bytes = canonicalBytes(r.pending.signed);
  for (const s of usable) {
    r.pending = withSignature(role, r.pending, r.reqs, r.keys, { keyid: s.keyid, sig: Buffer.from(signChecked(s, bytes)).toString('hex') });
    bundle.audit = appendAudit(bundle.audit, { at: who.at.toISOString(), action: 'sign', role, version: r.pending.signed.version, by: who.by, keyid: s.keyid, key: s.label });
  }
  return usable.map((s) => s.keyid);
}

// Merges every role of the bundle into the workdir's repository (same bytes, re-checked signatures) and its audit log.
export function importBundle(repo: Repository, bundle: CeremonyBundle, who: { at: Date; by: string }): Record<string, string[]> {
  repo.mergeAuditLog(bundle.audit);
  return Object.fromEntries(Object.entries(bundle.roles).map(([role, r]) => [role, repo.importPending(role, r.pending, who)]));
}

const MAX_BUNDLE = 16 * 1024 * 1024;

export async function readBundle(path: string): Promise<CeremonyBundle> {
  const st = await lstat(path).catch((err: NodeJS.ErrnoException) => {
    throw new EdgesealError('STORAGE_ERROR', `${path}: expected a readable ceremony bundle, found ${err.code ?? 'an error'}`, { cause: err });
  });
  if (!st.isFile()) throw new EdgesealError('UNSAFE_PATH', `${path}: expected a regular file, found a symlink or another file type`);
  if (st.size > MAX_BUNDLE) throw new EdgesealError('OVERSIZED', `${path}: expected at most ${MAX_BUNDLE} bytes, found ${st.size}`);
  try {
    return parseBundle(JSON.parse(await readFile(path, 'utf8')));
  } catch (err) {
    if (err instanceof EdgesealError) throw err;
    throw new EdgesealError('MALFORMED_METADATA', `${path}: expected JSON, found a parse error`, { cause: err });
  }
}

export async function writeBundle(path: string, bundle: CeremonyBundle): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(bundle, null, 1)}\n`);
}
