import type { ErrorCode } from './errors.js';
import type { ImageKind, TargetCustom } from './target-meta.js';
import { compareSemVer } from './semver.js';
import { describeWindow, inMaintenanceWindow, type MaintenanceWindow } from './maintenance-window.js';
import { MAX_FLOOR_STEP } from '../trust/floors.js';

// The OTA update gate: given verified metadata (listTargets), the device's state and policy, decide
// whether to install, and which target. Pure: every input is data, time is `now`.

export interface GateCandidate {
  readonly name: string;
  readonly length: number;
  readonly sha256: string;
  readonly custom: TargetCustom;
  readonly signedBy?: { readonly role: string; readonly keyids: readonly string[] };
}

// KEY_REVOKED, IMAGE_REVOKED, BELOW_MINIMUM_VERSION (checkRevocation) or REVOCATION_STALE (list policy)
export type RevocationResult = { readonly ok: true } | { readonly ok: false; readonly code: ErrorCode; readonly message: string };

// ROLLOUT_WITHHELD (halted, or not yet in the cohort) or why the rollout policy was refused.
// `full`: the rollout is at 100 % and not halted (a release a device outside a newer cohort may fall back to).
export type RolloutResult = { readonly ok: true; readonly reason: string; readonly full?: boolean } | { readonly ok: false; readonly code: ErrorCode; readonly message: string };

export interface GateInput {
  readonly candidates: readonly GateCandidate[];
  readonly device: { readonly hardwareId: string; readonly kind: ImageKind; readonly slot?: string };
  // null when the slot holds no verified image yet (first install)
  readonly installed: { readonly version: string; readonly securityVersion: number } | null;
  readonly floors: { readonly securityVersion: number };
  // the revocation step (pure, composed by the agent) applied to the chosen candidate
  readonly revocation: (candidate: GateCandidate) => RevocationResult;
  // the staged-rollout step for the chosen candidate; undefined (or absent) when no rollout names it
  readonly rollout?: (candidate: GateCandidate) => RolloutResult | undefined;
  // the signed PCR policies this device holds, for a release that changes measured components (P7)
  readonly pcrPolicies?: PcrPolicyView;
  // room in the inactive slot the image streams into (a partition's size; a file slot's free space plus its file)
  readonly freeBytes: number;
  readonly maintenanceWindows: readonly MaintenanceWindow[];
  readonly policy: {
    readonly allowDowngrade: boolean;
    readonly reserveBytes?: number; // kept free beside the image (a file slot's filesystem)
    readonly ignoreMaintenanceWindow?: boolean; // an operator's explicit `update --now`
  };
  readonly now: Date;
}

// `authority`: the anchor is sealed to a PCR-policy authority; `cached` are the generations of verified
// policies by that authority for the device's PCR selection in the promoted set or trust dir, `revoked`
// those whose bit is set on this TPM. `pcr`: sealed to plain PolicyPCR, which no signed policy opens.
export type PcrPolicyView = { readonly sealedTo: 'pcr' } | { readonly sealedTo: 'authority'; readonly cached: ReadonlySet<number>; readonly revoked: ReadonlySet<number> };

export type GateDecision =
  | { readonly action: 'install'; readonly target: GateCandidate; readonly reasons: readonly string[] }
  | { readonly action: 'none'; readonly code: 'NO_UPDATE'; readonly message: string }
  | { readonly action: 'refuse'; readonly code: ErrorCode; readonly message: string; readonly target?: GateCandidate };

type Step = string | { readonly code: ErrorCode; readonly message: string };

// Newest first by semver precedence; ties by securityVersion, then name, so the choice is deterministic.
function byNewest(a: GateCandidate, b: GateCandidate): number {
  return compareSemVer(b.custom.version, a.custom.version) || b.custom.securityVersion - a.custom.securityVersion || a.name.localeCompare(b.name);
}

function versionStep(t: GateCandidate, input: GateInput): Step {
  const { installed, policy } = input;
  if (!installed) return `version ${t.custom.version} (nothing installed yet)`;
  const cmp = compareSemVer(t.custom.version, installed.version);
  if (cmp > 0) return `version ${t.custom.version} newer than installed ${installed.version}`;
  if (cmp < 0 && policy.allowDowngrade) return `downgrade ${installed.version} → ${t.custom.version} allowed by policy`;
  return {
    code: 'ROLLBACK',
    message: `expected a version newer than installed ${installed.version}, found ${t.custom.version} as the newest for this device (downgrades not allowed by policy)`,
  };
}

// The TPM floor is never subject to the downgrade policy: it is what makes a rollback attack fail (P3).
function floorStep(t: GateCandidate, input: GateInput): Step {
  const floor = input.floors.securityVersion;
  const sv = t.custom.securityVersion;
  if (sv < floor) return { code: 'ROLLBACK', message: `expected securityVersion ≥ TPM floor ${floor}, found ${sv} in ${t.name}` };
  // the commit raises the floor to sv in one go; past the trust layer's limit it would fail at every start
  if (sv - floor > MAX_FLOOR_STEP) {
    return { code: 'FLOOR_VIOLATION', message: `expected securityVersion ≤ floor ${floor} + ${MAX_FLOOR_STEP} (the largest single floor raise), found ${sv} in ${t.name}` };
  }
  return `securityVersion ${sv} ≥ floor ${floor}`;
}

function revocationStep(t: GateCandidate, input: GateInput): Step {
  const r = input.revocation(t);
  return r.ok ? 'not revoked' : { code: r.code, message: r.message };
}

function rolloutStep(t: GateCandidate, input: GateInput): Step | undefined {
  const r = input.rollout?.(t);
  if (!r) return undefined;
  return r.ok ? r.reason : { code: r.code, message: r.message };
}

// A release whose boot chain measures differently must find its signed PCR policy here before it is
// armed: otherwise its first boot cannot unseal the anchor and the device is stranded (P7).
function pcrPolicyStep(t: GateCandidate, input: GateInput): Step | undefined {
  const g = t.custom.pcrPolicyGeneration;
  if (g === undefined) return undefined;
  const view = input.pcrPolicies ?? { sealedTo: 'pcr' };
  const refuse = (found: string): Step => ({
    code: 'PCR_POLICY_MISSING',
    message: `${t.name} changes measured boot components: expected a cached signed PCR policy of generation ${g} for this device's authority and PCR selection, found ${found}; arming it would leave the next boot unable to unseal the anchor`,
  });
  if (view.sealedTo === 'pcr') return refuse('an anchor sealed to plain PolicyPCR (reseal it to a PCR-policy authority first: edgeseal reseal)');
  if (!view.cached.has(g)) return refuse(view.cached.size ? `generations ${[...view.cached].sort((a, b) => a - b).join(', ')} only` : 'none');
  if (view.revoked.has(g)) return refuse(`generation ${g} revoked on this TPM (a newer boot chain committed)`);
  return `signed PCR policy generation ${g} cached`;
}

function spaceStep(t: GateCandidate, input: GateInput): Step {
  const needed = t.length + (input.policy.reserveBytes ?? 0);
  if (input.freeBytes >= needed) return `needs ${needed} bytes, the inactive slot has room for ${input.freeBytes}`;
  return { code: 'INSUFFICIENT_SPACE', message: `expected room for ${needed} bytes in the inactive slot for ${t.name}, found ${input.freeBytes}` };
}

function windowStep(_t: GateCandidate, input: GateInput): Step {
  const { maintenanceWindows: windows, policy, now } = input;
  if (policy.ignoreMaintenanceWindow) return 'maintenance window overridden by operator';
  if (windows.length === 0) return 'no maintenance window configured';
  const described = windows.map(describeWindow).join(', ');
  if (inMaintenanceWindow(windows, now)) return `inside maintenance window (${described})`;
  return { code: 'OUTSIDE_MAINTENANCE_WINDOW', message: `expected a time inside ${described}, found ${now.toISOString()}` };
}

const GATES = [versionStep, floorStep, revocationStep, rolloutStep, pcrPolicyStep, spaceStep, windowStep] as const;

// Picks the newest target for this device's hardware and image kind, then runs every gate in order;
// the first refusal wins and names its code.
export function decideUpdate(input: GateInput): GateDecision {
  const { device } = input;
  const relevant = input.candidates.filter((c) => c.custom.kind === device.kind && (c.custom.slot === undefined || device.slot === undefined || c.custom.slot === device.slot));
  if (relevant.length === 0) return { action: 'none', code: 'NO_UPDATE', message: `no ${device.kind} targets published` };
  const compatible = relevant.filter((c) => c.custom.hardwareIds.includes(device.hardwareId));
  if (compatible.length === 0) {
    const offered = [...new Set(relevant.flatMap((c) => c.custom.hardwareIds))].join(', ');
    return { action: 'refuse', code: 'HARDWARE_MISMATCH', message: `expected a ${device.kind} target for hardware ${device.hardwareId}, found only ${offered}` };
  }
  const target = [...compatible].sort(byNewest)[0];
  if (input.installed && compareSemVer(target.custom.version, input.installed.version) === 0) {
    return { action: 'none', code: 'NO_UPDATE', message: `installed ${input.installed.version} is the newest for ${device.hardwareId}` };
  }
  const decided = runGates(target, input, []);
  if (decided.action === 'refuse' && decided.code === 'ROLLOUT_WITHHELD') return fallBack(target, decided.message, compatible, input);
  return decided;
}

function runGates(target: GateCandidate, input: GateInput, before: readonly string[]): GateDecision {
  const reasons = [...before, `hardware ${input.device.hardwareId} listed by ${target.name}`];
  for (const gate of GATES) {
    const step = gate(target, input);
    if (step === undefined) continue; // a step that does not apply (no rollout names this target)
    if (typeof step !== 'string') return { action: 'refuse', code: step.code, message: step.message, target };
    reasons.push(step);
  }
  return { action: 'install', target, reasons };
}

// Outside the newest release's cohort (or that rollout halted), a device takes the newest older release
// for its hardware that every device may take (no rollout, or one at 100 % and not halted), when that is
// newer than what it runs: the fleet converges on the last good release while the new one is staged
// (docs/rollouts.md, "Falling back"). Otherwise it waits, and the message says why.
function fallBack(newest: GateCandidate, withheld: string, compatible: readonly GateCandidate[], input: GateInput): GateDecision {
  const fullyRolledOut = (c: GateCandidate): boolean => {
    const r = input.rollout?.(c);
    return r === undefined || (r.ok && r.full === true);
  };
  const older = compatible
    .filter((c) => compareSemVer(c.custom.version, newest.custom.version) < 0)
    .filter((c) => !input.installed || compareSemVer(c.custom.version, input.installed.version) > 0)
    .sort(byNewest)
    .find(fullyRolledOut);
  if (!older) {
    const runs = input.installed ? `newer than installed ${input.installed.version}` : 'for a first install';
    return { action: 'refuse', code: 'ROLLOUT_WITHHELD', message: `${withheld}; no older release fully rolled out ${runs} to fall back to`, target: newest };
  }
  const how = input.rollout?.(older) === undefined ? 'no rollout names it' : 'its rollout is at 100 %';
  return runGates(older, input, [`${withheld}; falling back to ${older.name} (version ${older.custom.version}, fully rolled out: ${how})`]);
}
