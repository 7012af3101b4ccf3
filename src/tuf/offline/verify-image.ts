import { asEdgesealError, EdgesealError } from '../../core/errors.js';
import { parseTargetCustom } from '../../core/target-meta.js';
import { resolveTarget } from './delegations.js';
import type { ListedTarget, RejectedTarget, TargetsView, TrustedMetadata, Verdict } from './types.js';

export interface ImageEvidence {
  readonly targetName: string;
  readonly observed: { readonly length: number; readonly sha256: string };
  readonly hardwareId?: string; // omitted: applicability is not checked (e.g. a lab bench verify)
  readonly now: Date; // re-checks expiry along the delegation path when the policy is 'enforce'
}

// Finds a target the trusted metadata vouches for, with its custom fields parsed. Throws coded errors.
export function findTarget(trusted: TargetsView, name: string, now: Date): ListedTarget {
  const { target, role, keyids } = resolveTarget(trusted, name, now);
  return {
    name,
    length: target.length,
    hashes: target.hashes,
    custom: parseTargetCustom(name, target.custom),
    signedBy: { role, keyids },
  };
}

function checkImage(trusted: TargetsView, ev: ImageEvidence): ListedTarget {
  const target = findTarget(trusted, ev.targetName, ev.now);
  if (ev.observed.length !== target.length) {
    throw new EdgesealError('LENGTH_MISMATCH', `${ev.targetName}: expected ${target.length} bytes, found ${ev.observed.length}`);
  }
  const expected = target.hashes.sha256;
  if (expected === undefined) throw new EdgesealError('MALFORMED_METADATA', `${ev.targetName}: expected a sha256 hash in its target entry, found none`);
  if (ev.observed.sha256.toLowerCase() !== expected.toLowerCase()) {
    throw new EdgesealError('DIGEST_MISMATCH', `${ev.targetName}: expected sha256 ${expected}, found ${ev.observed.sha256}`);
  }
  if (ev.hardwareId !== undefined && !target.custom.hardwareIds.includes(ev.hardwareId)) {
    throw new EdgesealError('HARDWARE_MISMATCH', `${ev.targetName}: expected one of hardware ids [${target.custom.hardwareIds.join(', ')}], device is ${JSON.stringify(ev.hardwareId)}`);
  }
  return target;
}

// The boot check for one installed image: authenticity first (length, sha256), then applicability
// (hardware id). Never throws; every refusal is a typed verdict.
export function verifyImage(trusted: TargetsView, ev: ImageEvidence): Verdict {
  try {
    const target = checkImage(trusted, ev);
    return { ok: true, target, keyids: target.signedBy.keyids, rootVersion: trusted.root.signed.version };
  } catch (err) {
    return refusal(err);
  }
}

// Any thrown error as a refusing verdict (unknown errors become INTERNAL, never a crash).
export function refusal(err: unknown): Verdict {
  const e = asEdgesealError(err);
  return { ok: false, code: e.code, message: e.message };
}

// Targets that declare a `custom.type` are other signed artifacts (e.g. the revocation list), not images.
function isImageTarget(trusted: TrustedMetadata, name: string, now: Date): boolean {
  const { custom } = resolveTarget(trusted, name, now).target;
  return !(typeof custom === 'object' && custom !== null && 'type' in custom);
}

// Every target the metadata vouches for (top-level and delegated), as a lookup by name would resolve it:
// the images, and the targets whose entry is unusable (e.g. no image custom fields, as a standard TUF
// tool publishes) — those are set aside with their code so one of them cannot stop every update.
export function scanTargets(trusted: TrustedMetadata, now: Date = trusted.checkedAt): { images: ListedTarget[]; rejected: RejectedTarget[] } {
  const names = new Set<string>();
  for (const role of trusted.roles.values()) Object.keys(role.md.signed.targets).forEach((n) => names.add(n));
  const images: ListedTarget[] = [];
  const rejected: RejectedTarget[] = [];
  for (const name of [...names].sort()) {
    try {
      if (isImageTarget(trusted, name, now)) images.push(findTarget(trusted, name, now));
    } catch (err) {
      if (!(err instanceof EdgesealError)) throw err;
      // other codes: a role that may not list this name did (not vouched for), so it is not a target at all
      if (err.code === 'MALFORMED_METADATA') rejected.push({ name, code: err.code, message: err.message });
    }
  }
  return { images, rejected };
}

// The image targets only (scanTargets' images): what the gate chooses from.
export function listTargets(trusted: TrustedMetadata, now: Date = trusted.checkedAt): ListedTarget[] {
  return scanTargets(trusted, now).images;
}
