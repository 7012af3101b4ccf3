import { EdgesealError } from '../core/errors.js';

// The rollout policy document (docs/rollouts.md), published as the TUF target `rollouts/policy.json`
// of the delegated role `rollouts`, which an online key re-signs (a halt takes minutes).
export const ROLLOUT_POLICY_TYPE = 'edgeseal-rollouts';
export const ROLLOUT_TARGET_NAME = 'rollouts/policy.json';
// Capped before JSON.parse, like the revocation list.
export const MAX_ROLLOUT_POLICY_BYTES = 256 * 1024;

export interface RolloutStep {
  readonly afterHours: number; // offset from `start`
  readonly percent: number;
}

export interface TargetRollout {
  readonly salt: string; // hex, ≥ 16 bytes: fixed for the life of the rollout so the canary ring is stable
  readonly percent: number; // 0–100, at most two decimals (one bucket is 0.01 %)
  readonly start?: string; // ISO 8601 UTC; before it nobody outside the allow-list is in the cohort
  readonly steps?: readonly RolloutStep[]; // ascending afterHours; replaces `percent` once `start` has passed
  readonly allow?: readonly string[]; // report key ids (64 hex) always in the cohort (canary ring)
  readonly halted?: boolean;
}

export interface RolloutPolicy {
  readonly _type: typeof ROLLOUT_POLICY_TYPE;
  readonly version: number;
  readonly issued: string; // freshness comes from the TUF metadata around it, not from this document
  readonly rollouts: Readonly<Record<string, TargetRollout>>;
}

const HEX64 = /^[0-9a-f]{64}$/;
const SALT = /^(?:[0-9a-f]{2}){16,64}$/;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?Z$/;
const ENTRY_FIELDS = new Set(['salt', 'percent', 'start', 'steps', 'allow', 'halted']);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const show = (v: unknown): string => (v === undefined ? 'nothing' : JSON.stringify(v));

export function parseIsoUtc(v: unknown): number {
  return typeof v === 'string' && ISO_UTC.test(v) ? Date.parse(v) : NaN;
}

// A percentage in basis points of 0.01 %: 0–100 with at most two decimals.
export function isPercent(v: unknown): boolean {
  return typeof v === 'number' && v >= 0 && v <= 100 && Math.abs(v * 100 - Math.round(v * 100)) < 1e-9;
}

function checkEntry(e: Obj, at: string, problems: string[]): void {
  for (const k of Object.keys(e)) if (!ENTRY_FIELDS.has(k)) problems.push(`${at}.${k}: expected one of ${[...ENTRY_FIELDS].join(', ')}, found an unknown field (refused: it could widen the rollout)`);
  if (typeof e.salt !== 'string' || !SALT.test(e.salt)) problems.push(`${at}.salt: expected 32–128 lowercase hex digits, found ${show(e.salt)}`);
  if (!isPercent(e.percent)) problems.push(`${at}.percent: expected 0–100 with at most two decimals, found ${show(e.percent)}`);
  if (e.start !== undefined && Number.isNaN(parseIsoUtc(e.start))) problems.push(`${at}.start: expected an ISO 8601 UTC time, found ${show(e.start)}`);
  if (e.halted !== undefined && typeof e.halted !== 'boolean') problems.push(`${at}.halted: expected true or false, found ${show(e.halted)}`);
  if (e.allow !== undefined && (!Array.isArray(e.allow) || !e.allow.every((k) => typeof k === 'string' && HEX64.test(k)))) {
    problems.push(`${at}.allow: expected a list of report key ids (64 lowercase hex), found ${show(e.allow)}`);
  }
  if (e.steps === undefined) return;
  if (e.start === undefined) problems.push(`${at}.steps: expected a start time with them, found none`);
  if (!Array.isArray(e.steps) || e.steps.length === 0) return void problems.push(`${at}.steps: expected a non-empty list, found ${show(e.steps)}`);
  let last = -1;
  e.steps.forEach((s: unknown, i) => {
    const ok = isObj(s) && typeof s.afterHours === 'number' && Number.isFinite(s.afterHours) && s.afterHours > last && isPercent(s.percent);
    if (!ok) problems.push(`${at}.steps[${i}]: expected { afterHours (ascending, ≥ 0), percent (0–100) }, found ${show(s)}`);
    else last = s.afterHours as number;
  });
}

// Parses and validates a rollout policy, collecting every bad field before throwing once.
export function parseRolloutPolicy(bytes: Uint8Array, maxLength = MAX_ROLLOUT_POLICY_BYTES): RolloutPolicy {
  if (bytes.length > maxLength) throw new EdgesealError('OVERSIZED', `rollout policy: expected at most ${maxLength} bytes, found ${bytes.length}`);
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    throw new EdgesealError('MALFORMED_METADATA', `rollout policy: expected UTF-8 JSON, found unparsable bytes (${(err as Error).message})`, { cause: err });
  }
  if (!isObj(doc)) throw new EdgesealError('MALFORMED_METADATA', `rollout policy: expected a JSON object, found ${show(doc)}`);
  const problems: string[] = [];
  if (doc._type !== ROLLOUT_POLICY_TYPE) problems.push(`_type: expected ${show(ROLLOUT_POLICY_TYPE)}, found ${show(doc._type)}`);
  if (typeof doc.version !== 'number' || !Number.isSafeInteger(doc.version) || doc.version < 1) problems.push(`version: expected an integer ≥ 1, found ${show(doc.version)}`);
  if (Number.isNaN(parseIsoUtc(doc.issued))) problems.push(`issued: expected an ISO 8601 UTC time, found ${show(doc.issued)}`);
  if (!isObj(doc.rollouts)) problems.push(`rollouts: expected an object keyed by target name, found ${show(doc.rollouts)}`);
  else for (const [name, e] of Object.entries(doc.rollouts)) {
    if (!isObj(e)) problems.push(`rollouts.${name}: expected an object, found ${show(e)}`);
    else checkEntry(e, `rollouts.${name}`, problems);
  }
  if (problems.length) throw new EdgesealError('MALFORMED_METADATA', `rollout policy is invalid: ${problems.join('; ')}`);
  return doc as unknown as RolloutPolicy;
}

// The bytes the rollouts role signs: readable, newline-terminated.
export function serializeRolloutPolicy(policy: RolloutPolicy): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify(policy, null, 2)}\n`);
}
