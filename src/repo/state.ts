import { EdgesealError } from '../core/errors.js';
import { verifyAudit, type AuditEntry } from './audit.js';
import type { PendingVersion } from './ceremony.js';
import { toMetadata } from './signing.js';
import { formatExpires, SPEC_VERSION, type Envelope, type RootSigned, type SnapshotSigned, type TargetsSigned, type TimestampSigned } from './tuf-json.js';

// The publisher's working state (<workdir>/repo.json): signed root history plus the working copy of
// every role, which roles have unsigned changes, and per-role expiry periods. No private keys.
export interface RepoState {
  format: 'edgeseal-repo/1';
  expirySeconds: Record<string, number>;
  roots: Envelope<RootSigned>[];
  root: Envelope<RootSigned>;
  targets: Envelope<TargetsSigned>;
  delegated: Record<string, Envelope<TargetsSigned>>;
  snapshot: Envelope<SnapshotSigned>;
  timestamp: Envelope<TimestampSigned>;
  dirty: string[];
  pending?: Record<string, PendingVersion>; // signing ceremonies in progress (src/repo/ceremony.ts)
  audit?: AuditEntry[];
}

const EPOCH = formatExpires(new Date(0));
const common = { spec_version: SPEC_VERSION, version: 0, expires: EPOCH };

export function emptyTargetsSigned(): TargetsSigned {
  return { _type: 'targets', ...common, targets: {} };
}

export function emptyState(expirySeconds: Record<string, number>): RepoState {
  const role = () => ({ keyids: [], threshold: 1 });
  return {
    format: 'edgeseal-repo/1',
    expirySeconds: { ...expirySeconds },
    roots: [],
    root: {
      signed: { _type: 'root', ...common, consistent_snapshot: true, keys: {}, roles: { root: role(), targets: role(), snapshot: role(), timestamp: role() } },
      signatures: [],
    },
    targets: { signed: emptyTargetsSigned(), signatures: [] },
    delegated: {},
    snapshot: { signed: { _type: 'snapshot', ...common, meta: {} }, signatures: [] },
    timestamp: { signed: { _type: 'timestamp', ...common, meta: { 'snapshot.json': { version: 0 } } }, signatures: [] },
    dirty: [],
  };
}

function bad(what: string, found: unknown): EdgesealError {
  return new EdgesealError('MALFORMED_METADATA', `repository state: expected ${what}, found ${JSON.stringify(found)?.slice(0, 80)}`);
}

// Checks a loaded repo.json: its shape, and every envelope parses as TUF metadata of the right type.
export function parseRepoState(json: unknown): RepoState {
  if (typeof json !== 'object' || json === null) throw bad('an object', json);
  const s = json as Partial<RepoState>;
  if (s.format !== 'edgeseal-repo/1') throw bad('format "edgeseal-repo/1"', s.format);
  if (!Array.isArray(s.roots) || !Array.isArray(s.dirty) || !s.dirty.every((d) => typeof d === 'string')) throw bad('roots and dirty lists', { roots: typeof s.roots, dirty: s.dirty });
  if (typeof s.expirySeconds !== 'object' || s.expirySeconds === null || !Object.values(s.expirySeconds).every((n) => Number.isSafeInteger(n) && n > 0)) {
    throw bad('positive expiry seconds per role', s.expirySeconds);
  }
  if (typeof s.delegated !== 'object' || s.delegated === null) throw bad('a delegated roles object', s.delegated);
  const checks: [string, unknown][] = [
    ...s.roots.map((r, i): [string, unknown] => ['root', r ?? { i }]),
    ['root', s.root],
    ['targets', s.targets],
    ['snapshot', s.snapshot],
    ['timestamp', s.timestamp],
    ...Object.values(s.delegated).map((d): [string, unknown] => ['targets', d]),
  ];
  for (const [type, env] of checks) {
    const e = env as Envelope | undefined;
    if (!e || typeof e !== 'object' || !e.signed || e.signed._type !== type || !Array.isArray(e.signatures)) throw bad(`a ${type} envelope`, env);
    // Never-signed drafts (version 0) are not yet valid TUF; everything signed must parse.
    if (e.signed.version !== 0) toMetadata(e);
  }
  if (s.pending !== undefined) {
    for (const [role, p] of Object.entries(s.pending)) {
      if (!p || typeof p !== 'object' || !p.signed || !Array.isArray(p.signatures) || typeof p.preparedAt !== 'string') throw bad(`a pending version of ${role}`, p);
    }
  }
  if (s.audit !== undefined) {
    if (!Array.isArray(s.audit)) throw bad('an audit list', s.audit);
    verifyAudit(s.audit, 'repository state');
  }
  return structuredClone(s as RepoState);
}
