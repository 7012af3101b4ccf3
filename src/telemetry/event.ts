import { ERROR_CODES, EdgesealError, type ErrorCode } from '../core/errors.js';
import { deviceFactsProblems, droppedProblems, V2_FIELDS, type DeviceFacts } from './event-v2.js';
import type { SeqRange } from './seq-ranges.js';

// Telemetry event schema, version 2 (what it adds: src/telemetry/event-v2.ts). Bump SCHEMA_VERSION on
// any incompatible change; the fleet side keeps parsing every version in READABLE_SCHEMAS, so old
// devices' reports (and exported audit trails) still verify.
export const SCHEMA_VERSION = 2;
export const READABLE_SCHEMAS: readonly number[] = [1, 2];

export const EVENT_TYPES = [
  'boot-verification',
  'update-check',
  'update-decision',
  'install',
  'commit',
  'rollback',
  'revocation-refresh',
  'anchor-status',
  'agent-start',
  'agent-stop',
  'command',
  'metrics',
  'outbox-drop', // schema 2
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const VERDICTS = ['ok', 'refused', 'error', 'info'] as const;
export type Verdict = (typeof VERDICTS)[number];

export interface ImageRef {
  name: string;
  version?: string;
  sha256?: string;
}

export interface RevocationRef {
  version: number;
  ageSeconds: number;
}

// What the agent supplies; the reporter adds the envelope header (schema, device, fleet, seq, time).
export interface EventInput {
  type: EventType;
  verdict: Verdict;
  code?: ErrorCode;
  image?: ImageRef;
  keyids?: string[];
  latencyMs?: number; // whole milliseconds
  rootVersion?: number;
  revocation?: RevocationRef;
  detail?: string;
  metrics?: Record<string, unknown>;
  device?: DeviceFacts; // schema 2, metrics events only
  dropped?: SeqRange[]; // schema 2, outbox-drop events only
}

export interface TelemetryEvent extends EventInput {
  schema: number;
  deviceId: string;
  fleet: string;
  seq: number;
  time: string;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const HEX64 = /^[0-9a-f]{64}$/;
const MAX_DETAIL = 512;
const KNOWN_FIELDS = new Set([
  'schema', 'deviceId', 'fleet', 'seq', 'time', 'type', 'verdict', 'code', 'image', 'keyids',
  'latencyMs', 'rootVersion', 'revocation', 'detail', 'metrics', ...V2_FIELDS,
]);

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isCount = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;

// Device and fleet ids become MQTT topic levels, so wildcards and separators are never allowed.
export function isValidId(id: string): boolean {
  return ID.test(id);
}

function imageProblems(image: unknown): string[] {
  if (!isObject(image)) return ['image: expected an object'];
  const out: string[] = [];
  if (typeof image.name !== 'string' || image.name === '') out.push('image.name: expected a non-empty string');
  if (image.version !== undefined && typeof image.version !== 'string') out.push('image.version: expected a string');
  if (image.sha256 !== undefined && (typeof image.sha256 !== 'string' || !HEX64.test(image.sha256))) {
    out.push('image.sha256: expected 64 lowercase hex characters');
  }
  return out;
}

function bodyProblems(e: Record<string, unknown>): string[] {
  const out: string[] = [];
  if (!(VERDICTS as readonly unknown[]).includes(e.verdict)) out.push(`verdict: expected one of ${VERDICTS.join('|')}, found ${JSON.stringify(e.verdict)}`);
  if (e.code !== undefined && !(ERROR_CODES as readonly unknown[]).includes(e.code)) out.push(`code: unknown error code ${JSON.stringify(e.code)}`);
  // A refusal without a code cannot be acted on by the fleet (P6: every refusal has a code).
  if ((e.verdict === 'refused' || e.verdict === 'error') && e.code === undefined) out.push(`code: required when verdict is ${String(e.verdict)}`);
  if (e.image !== undefined) out.push(...imageProblems(e.image));
  if (e.keyids !== undefined && !(Array.isArray(e.keyids) && e.keyids.every((k) => typeof k === 'string' && /^[0-9a-f]{1,128}$/.test(k)))) {
    out.push('keyids: expected an array of hex key ids');
  }
  // Canonical JSON (what the signature covers) has integers only, so latency is whole milliseconds.
  if (e.latencyMs !== undefined && !isCount(e.latencyMs)) out.push(`latencyMs: expected an integer ≥ 0, found ${JSON.stringify(e.latencyMs)}`);
  if (e.rootVersion !== undefined && !(isCount(e.rootVersion) && e.rootVersion >= 1)) out.push('rootVersion: expected an integer ≥ 1');
  if (e.revocation !== undefined && !(isObject(e.revocation) && isCount(e.revocation.version) && isCount(e.revocation.ageSeconds))) {
    out.push('revocation: expected { version, ageSeconds } integers ≥ 0');
  }
  if (e.detail !== undefined && !(typeof e.detail === 'string' && e.detail.length <= MAX_DETAIL)) out.push(`detail: expected a string of at most ${MAX_DETAIL} characters`);
  if ((e.type === 'metrics') !== isObject(e.metrics)) out.push('metrics: required for type metrics and only there');
  if (e.device !== undefined) out.push(...(e.type === 'metrics' ? deviceFactsProblems(e.device) : ['device: only on type metrics']));
  if ((e.type === 'outbox-drop') !== (e.dropped !== undefined)) out.push('dropped: required for type outbox-drop and only there');
  else if (e.dropped !== undefined) out.push(...droppedProblems(e.dropped));
  return out;
}

// A version-1 event carries none of what version 2 added.
function versionProblems(x: Record<string, unknown>): string[] {
  if (!READABLE_SCHEMAS.includes(x.schema as number)) return [`schema: expected one of ${READABLE_SCHEMAS.join('|')}, found ${JSON.stringify(x.schema)}`];
  if (x.schema !== 1) return [];
  const v2 = [...V2_FIELDS.filter((k) => x[k] !== undefined), ...(x.type === 'outbox-drop' ? ['type outbox-drop'] : [])];
  return v2.length ? [`schema 1: ${v2.join(', ')} exist only from schema 2`] : [];
}

// Parse-at-the-boundary check of one event: collects every bad field, then throws EVENT_INVALID once.
export function assertEvent(x: unknown): asserts x is TelemetryEvent {
  if (!isObject(x)) throw new EdgesealError('EVENT_INVALID', `expected an event object, found ${Array.isArray(x) ? 'array' : typeof x}`);
  const problems: string[] = [];
  problems.push(...versionProblems(x));
  for (const k of ['deviceId', 'fleet'] as const) {
    if (typeof x[k] !== 'string' || !isValidId(x[k])) problems.push(`${k}: expected [A-Za-z0-9._-]{1,128}, found ${JSON.stringify(x[k])}`);
  }
  if (!(isCount(x.seq) && x.seq >= 1)) problems.push(`seq: expected an integer ≥ 1, found ${JSON.stringify(x.seq)}`);
  if (typeof x.time !== 'string' || Number.isNaN(Date.parse(x.time))) problems.push(`time: expected an ISO 8601 time, found ${JSON.stringify(x.time)}`);
  if (!(EVENT_TYPES as readonly unknown[]).includes(x.type)) problems.push(`type: expected one of ${EVENT_TYPES.join('|')}, found ${JSON.stringify(x.type)}`);
  problems.push(...bodyProblems(x));
  const unknown = Object.keys(x).filter((k) => !KNOWN_FIELDS.has(k));
  if (unknown.length) problems.push(`unknown fields: ${unknown.join(', ')}`);
  if (problems.length) throw new EdgesealError('EVENT_INVALID', `invalid telemetry event: ${problems.join('; ')}`);
}

// Builds a full event from the agent's input and the reporter's header, then validates it.
export function buildEvent(input: EventInput, header: { deviceId: string; fleet: string; seq: number; now: Date }): TelemetryEvent {
  const event: TelemetryEvent = { schema: SCHEMA_VERSION, deviceId: header.deviceId, fleet: header.fleet, seq: header.seq, time: header.now.toISOString(), ...input };
  for (const k of Object.keys(event) as (keyof TelemetryEvent)[]) if (event[k] === undefined) delete event[k];
  assertEvent(event);
  return event;
}
