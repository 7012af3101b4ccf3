import { EdgesealError } from '../core/errors.js';
import { resolveTarget } from '../tuf/offline/delegations.js';
import type { TrustedMetadata } from '../tuf/offline/types.js';

// Signed PCR policies delivered as TUF targets (docs/signed-pcr-policies.md): `pcr-policies/<file>.json`
// with `custom.type` edgeseal-pcr-policy and the generation. TUF brings freshness, thresholds and
// rollback protection; the PCR-policy authority's signature (checked again by the TPM) is what lets a
// policy open an anchor. Pure: what the verified metadata names.

export const PCR_POLICY_TYPE = 'edgeseal-pcr-policy';
export const PCR_POLICY_DIR = 'pcr-policies'; // in the repository's target paths and in a cached generation
export const MAX_PCR_POLICY_BYTES = 4096; // a document is ~1 KiB: capped from the signed length before any download
const FILE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}\.json$/;

export interface NamedPcrPolicy {
  readonly name: string; // the target path, e.g. pcr-policies/2.json
  readonly file: string; // its file name in a cached generation's pcr-policies/
  readonly length: number;
  readonly sha256: string;
  readonly generation: number;
}

export interface NamedPcrPolicies {
  readonly policies: readonly NamedPcrPolicy[];
  readonly rejected: readonly { readonly name: string; readonly code: 'MALFORMED_METADATA' | 'OVERSIZED'; readonly message: string }[];
}

// The target path a policy of `generation` gets unless the publisher names another (one per board type).
export const defaultPcrPolicyTarget = (generation: number): string => `${PCR_POLICY_DIR}/${generation}.json`;

export function pcrPolicyFile(name: string): string | undefined {
  const [dir, file, ...rest] = name.split('/');
  return dir === PCR_POLICY_DIR && file !== undefined && rest.length === 0 && FILE.test(file) ? file : undefined;
}

function entry(name: string, target: { length: number; hashes: Readonly<Record<string, string>>; custom?: unknown }): NamedPcrPolicy {
  const file = pcrPolicyFile(name);
  if (!file) throw new EdgesealError('MALFORMED_METADATA', `${name}: expected a PCR policy target named ${PCR_POLICY_DIR}/<name>.json, found another path`);
  const sha256 = target.hashes.sha256?.toLowerCase();
  if (!sha256 || !/^[0-9a-f]{64}$/.test(sha256)) throw new EdgesealError('MALFORMED_METADATA', `${name}: expected a sha256 in its TUF target entry, found ${JSON.stringify(target.hashes)}`);
  if (target.length > MAX_PCR_POLICY_BYTES) throw new EdgesealError('OVERSIZED', `${name}: expected at most ${MAX_PCR_POLICY_BYTES} bytes, TUF metadata says ${target.length}`);
  const generation = (target.custom as { generation?: unknown }).generation;
  if (typeof generation !== 'number' || !Number.isInteger(generation)) throw new EdgesealError('MALFORMED_METADATA', `${name}: expected custom.generation as an integer, found ${JSON.stringify(generation)}`);
  return { name, file, length: target.length, sha256, generation };
}

// Every target whose custom.type names a signed PCR policy, as a lookup by name resolves it (so a
// delegated role counts only for the paths it is delegated). An unusable entry is set aside with its
// code: it cannot stop a metadata set (and every other update) from being promoted.
export function namedPcrPolicies(trusted: TrustedMetadata, now: Date): NamedPcrPolicies {
  const names = new Set<string>();
  for (const role of trusted.roles.values()) for (const [n, t] of Object.entries(role.md.signed.targets)) if ((t.custom as { type?: unknown } | undefined)?.type === PCR_POLICY_TYPE) names.add(n);
  const policies: NamedPcrPolicy[] = [];
  const rejected: { name: string; code: 'MALFORMED_METADATA' | 'OVERSIZED'; message: string }[] = [];
  for (const name of [...names].sort()) {
    let resolved;
    try {
      resolved = resolveTarget(trusted, name, now).target;
    } catch {
      continue; // a role that may not list this name did: not vouched for, so not a target at all
    }
    if ((resolved.custom as { type?: unknown } | undefined)?.type !== PCR_POLICY_TYPE) continue;
    try {
      policies.push(entry(name, resolved));
    } catch (err) {
      if (!(err instanceof EdgesealError) || (err.code !== 'MALFORMED_METADATA' && err.code !== 'OVERSIZED')) throw err;
      rejected.push({ name, code: err.code, message: err.message });
    }
  }
  return { policies, rejected };
}
