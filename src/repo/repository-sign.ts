import { createHash } from 'node:crypto';
import { completePending, type CeremonyHost } from './repository-ceremony.js';
import { assertDelegateVerifies, encodeEnvelope, signRole, signRoot } from './signing.js';
import type { Envelope, RootSigned, TargetsSigned } from './tuf-json.js';

// Repository.sign(): a new version of every changed role, in the order the spec gives (§6.1).

export interface SignedRole {
  readonly role: string;
  readonly version: number;
  readonly expires: string;
}

// What signing needs of the Repository: what a ceremony needs (it completes pending versions) and its targets roles.
export interface SignHost extends CeremonyHost {
  targetRoles(): string[];
  targetsEnvelope(role: string): Envelope<TargetsSigned>;
}

// Signs every changed role with a new version: root (old and new thresholds), targets roles,
// then snapshot if any targets role changed, then timestamp if snapshot changed (spec §6.1).
// Edits the state in place; Repository.sign() restores it when this throws.
export function signChanged(host: SignHost, now: Date, by: string): SignedRole[] {
  const s = host.state();
  const dirty = new Set(s.dirty);
  if (dirty.size === 0) return [];
  const done: SignedRole[] = [];
  if (dirty.has('root')) {
    const previous = s.roots.at(-1);
    const signed = { ...s.root.signed, version: host.nextVersion('root'), expires: host.expiresAt('root', now) };
    const env = s.pending?.root ? completePending(host, 'root', now, by) : signRoot(previous, signed, host.keyring);
    if (previous) assertDelegateVerifies(previous, 'root', env);
    assertDelegateVerifies(env as Envelope<RootSigned>, 'root', env);
    s.roots.push(env as Envelope<RootSigned>);
    s.root = env as Envelope<RootSigned>;
    done.push(summary('root', env));
  }
  const changedTargets = host.targetRoles().filter((r) => dirty.has(r));
  for (const role of changedTargets) {
    const env = host.targetsEnvelope(role);
    const signed = { ...env.signed, version: env.signed.version + 1, expires: host.expiresAt(role, now) };
    const { delegator, entry } = host.roleEntry(role);
    const delegatorEnv = delegator === 'root' ? s.root : host.targetsEnvelope(delegator);
    let next: Envelope<TargetsSigned>;
    if (s.pending?.[role]) {
      next = completePending(host, role, now, by) as Envelope<TargetsSigned>;
      assertDelegateVerifies(delegatorEnv, role, next);
    } else {
      next = signRole(role, signed, entry, host.keyring, delegatorEnv);
    }
    if (role === 'targets') s.targets = next;
    else s.delegated[role] = next;
    done.push(summary(role, next));
  }
  if (changedTargets.length > 0 || dirty.has('snapshot')) {
    const meta = Object.fromEntries(host.targetRoles().map((r) => [`${r}.json`, { version: host.targetsEnvelope(r).signed.version }]));
    const signed = { ...s.snapshot.signed, meta, version: s.snapshot.signed.version + 1, expires: host.expiresAt('snapshot', now) };
    s.snapshot = signRole('snapshot', signed, s.root.signed.roles.snapshot, host.keyring, s.root);
    done.push(summary('snapshot', s.snapshot));
    dirty.add('timestamp');
  }
  if (dirty.has('timestamp')) {
    const bytes = encodeEnvelope(s.snapshot);
    const snapshotMeta = { version: s.snapshot.signed.version, length: bytes.length, hashes: { sha256: createHash('sha256').update(bytes).digest('hex') } };
    const signed = { ...s.timestamp.signed, meta: { 'snapshot.json': snapshotMeta }, version: s.timestamp.signed.version + 1, expires: host.expiresAt('timestamp', now) };
    s.timestamp = signRole('timestamp', signed, s.root.signed.roles.timestamp, host.keyring, s.root);
    done.push(summary('timestamp', s.timestamp));
  }
  s.dirty = [];
  return done;
}

function summary(role: string, env: Envelope): SignedRole {
  return { role, version: env.signed.version, expires: env.signed.expires };
}
