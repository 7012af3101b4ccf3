import { EdgesealError } from './errors.js';
import { isSemVer } from './semver.js';

// The custom fields a TUF target carries for devices to gate on (targets.json → targets[path].custom).
export const IMAGE_KINDS = ['firmware', 'os', 'app'] as const;
export type ImageKind = (typeof IMAGE_KINDS)[number];

export interface TargetCustom {
  readonly hardwareIds: readonly string[];
  readonly version: string; // semver
  readonly securityVersion: number; // non-negative integer, compared against the TPM floor
  readonly kind: ImageKind;
  readonly slot?: string;
  // the release changes measured boot components: the signed PCR policy generation its boot chain needs
  readonly pcrPolicyGeneration?: number;
}

// Signed PCR policy generations are the bits 1..63 of the revocation index (src/trust/pcr-policy.ts).
export const MAX_PCR_POLICY_GENERATION = 63;

// Parses `custom` from signed metadata, collecting every bad field before throwing once.
export function parseTargetCustom(targetName: string, custom: unknown): TargetCustom {
  const problems: string[] = [];
  const c = (typeof custom === 'object' && custom !== null ? custom : {}) as Record<string, unknown>;
  if (typeof custom !== 'object' || custom === null) problems.push(`custom: expected an object, found ${JSON.stringify(custom)}`);
  const { hardwareIds, version, securityVersion, kind, slot, pcrPolicyGeneration } = c;
  if (!Array.isArray(hardwareIds) || hardwareIds.length === 0 || !hardwareIds.every((h) => typeof h === 'string' && h.length > 0)) {
    problems.push(`custom.hardwareIds: expected a non-empty list of strings, found ${JSON.stringify(hardwareIds)}`);
  }
  if (typeof version !== 'string' || !isSemVer(version)) problems.push(`custom.version: expected a semantic version, found ${JSON.stringify(version)}`);
  if (typeof securityVersion !== 'number' || !Number.isSafeInteger(securityVersion) || securityVersion < 0) {
    problems.push(`custom.securityVersion: expected a non-negative integer, found ${JSON.stringify(securityVersion)}`);
  }
  if (!IMAGE_KINDS.includes(kind as ImageKind)) problems.push(`custom.kind: expected one of ${IMAGE_KINDS.join('|')}, found ${JSON.stringify(kind)}`);
  if (slot !== undefined && (typeof slot !== 'string' || slot.length === 0)) problems.push(`custom.slot: expected a string, found ${JSON.stringify(slot)}`);
  if (pcrPolicyGeneration !== undefined && (typeof pcrPolicyGeneration !== 'number' || !Number.isInteger(pcrPolicyGeneration) || pcrPolicyGeneration < 1 || pcrPolicyGeneration > MAX_PCR_POLICY_GENERATION)) {
    problems.push(`custom.pcrPolicyGeneration: expected an integer 1..${MAX_PCR_POLICY_GENERATION}, found ${JSON.stringify(pcrPolicyGeneration)}`);
  }
  if (problems.length) {
    throw new EdgesealError('MALFORMED_METADATA', `target ${JSON.stringify(targetName)} has invalid custom fields: ${problems.join('; ')}`);
  }
  return {
    hardwareIds: hardwareIds as string[],
    version: version as string,
    securityVersion: securityVersion as number,
    kind: kind as ImageKind,
    ...(slot !== undefined ? { slot: slot as string } : {}),
    ...(pcrPolicyGeneration !== undefined ? { pcrPolicyGeneration: pcrPolicyGeneration as number } : {}),
  };
}
