import { EdgesealError } from '../core/errors.js';
import { isSemVer } from '../core/semver.js';

// The revocation list document (docs/revocation.md), published as the TUF target `revocations/list.json`.
export const REVOCATION_LIST_TYPE = 'edgeseal-revocations';
export const REVOCATION_TARGET_NAME = 'revocations/list.json';
// Capped before JSON.parse so a hostile or broken server cannot make the device parse megabytes.
export const MAX_REVOCATION_LIST_BYTES = 1024 * 1024;

export interface RevokedKey {
  readonly keyid: string;
  readonly reason?: string;
  readonly reference?: string;
}

export interface RevokedDigest {
  readonly sha256: string;
  readonly reason?: string;
  readonly reference?: string;
}

export interface MinimumVersion {
  readonly target: string; // a target name or a TUF-style path pattern (`*` within one path segment)
  readonly hardwareId?: string;
  readonly version: string; // semver
  readonly reason?: string;
  readonly reference?: string;
}

export interface RevocationList {
  readonly _type: typeof REVOCATION_LIST_TYPE;
  readonly version: number;
  readonly issued: string; // ISO 8601 UTC
  readonly expires: string;
  readonly keys: readonly RevokedKey[];
  readonly digests: readonly RevokedDigest[];
  readonly minimumVersions: readonly MinimumVersion[];
}

const HEX64 = /^[0-9a-f]{64}$/;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const show = (v: unknown): string => (v === undefined ? 'nothing' : JSON.stringify(v));

// An ISO UTC timestamp that round-trips (rejects 2026-02-30 and local-time forms), or NaN.
export function parseIsoUtc(text: unknown): number {
  if (typeof text !== 'string' || !ISO_UTC.test(text)) return NaN;
  const ms = Date.parse(text);
  return Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 19) !== text.slice(0, 19) ? NaN : ms;
}

function checkAnnotations(entry: Obj, at: string, problems: string[]): void {
  for (const field of ['reason', 'reference'] as const) {
    const v = entry[field];
    if (v !== undefined && (typeof v !== 'string' || v.length === 0)) problems.push(`${at}.${field}: expected a non-empty string, found ${show(v)}`);
  }
}

function annotations(entry: Obj): { reason?: string; reference?: string } {
  return {
    ...(entry.reason !== undefined ? { reason: entry.reason as string } : {}),
    ...(entry.reference !== undefined ? { reference: entry.reference as string } : {}),
  };
}

// Validates one array of entries; `check` adds problems for an entry's own fields.
function entries(doc: Obj, field: string, problems: string[], check: (e: Obj, at: string) => void): Obj[] {
  const list = doc[field];
  if (!Array.isArray(list)) {
    problems.push(`${field}: expected a list, found ${show(list)}`);
    return [];
  }
  list.forEach((e: unknown, i) => {
    const at = `${field}[${i}]`;
    if (!isObj(e)) problems.push(`${at}: expected an object, found ${show(e)}`);
    else {
      check(e, at);
      checkAnnotations(e, at, problems);
    }
  });
  return list.filter(isObj);
}

// Parses and validates a revocation list, collecting every bad field before throwing once.
export function parseRevocationList(bytes: Uint8Array, maxLength = MAX_REVOCATION_LIST_BYTES): RevocationList {
  if (bytes.length > maxLength) {
    throw new EdgesealError('OVERSIZED', `revocation list: expected at most ${maxLength} bytes, found ${bytes.length}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    throw new EdgesealError('MALFORMED_METADATA', `revocation list: expected UTF-8 JSON, found unparsable bytes (${(err as Error).message})`, { cause: err });
  }
  if (!isObj(doc)) throw new EdgesealError('MALFORMED_METADATA', `revocation list: expected a JSON object, found ${show(doc)}`);
  const problems: string[] = [];
  if (doc._type !== REVOCATION_LIST_TYPE) problems.push(`_type: expected ${show(REVOCATION_LIST_TYPE)}, found ${show(doc._type)}`);
  const { version } = doc;
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) problems.push(`version: expected an integer ≥ 1, found ${show(version)}`);
  const issued = parseIsoUtc(doc.issued);
  const expires = parseIsoUtc(doc.expires);
  if (Number.isNaN(issued)) problems.push(`issued: expected an ISO 8601 UTC time, found ${show(doc.issued)}`);
  if (Number.isNaN(expires)) problems.push(`expires: expected an ISO 8601 UTC time, found ${show(doc.expires)}`);
  if (issued >= expires) problems.push(`expires: expected a time after issued ${show(doc.issued)}, found ${show(doc.expires)}`);
  const hex = (e: Obj, at: string, field: string): void => {
    if (typeof e[field] !== 'string' || !HEX64.test(e[field])) problems.push(`${at}.${field}: expected 64 lowercase hex digits, found ${show(e[field])}`);
  };
  const keys = entries(doc, 'keys', problems, (e, at) => hex(e, at, 'keyid'));
  const digests = entries(doc, 'digests', problems, (e, at) => hex(e, at, 'sha256'));
  const minimumVersions = entries(doc, 'minimumVersions', problems, (e, at) => {
    if (typeof e.target !== 'string' || e.target.length === 0) problems.push(`${at}.target: expected a target name, found ${show(e.target)}`);
    if (e.hardwareId !== undefined && (typeof e.hardwareId !== 'string' || e.hardwareId.length === 0)) {
      problems.push(`${at}.hardwareId: expected a non-empty string, found ${show(e.hardwareId)}`);
    }
    if (typeof e.version !== 'string' || !isSemVer(e.version)) problems.push(`${at}.version: expected a semantic version, found ${show(e.version)}`);
  });
  if (problems.length) throw new EdgesealError('MALFORMED_METADATA', `revocation list is invalid: ${problems.join('; ')}`);
  return {
    _type: REVOCATION_LIST_TYPE,
    version: version as number,
    issued: doc.issued as string,
    expires: doc.expires as string,
    keys: keys.map((e) => ({ keyid: e.keyid as string, ...annotations(e) })),
    digests: digests.map((e) => ({ sha256: e.sha256 as string, ...annotations(e) })),
    minimumVersions: minimumVersions.map((e) => ({
      target: e.target as string,
      ...(e.hardwareId !== undefined ? { hardwareId: e.hardwareId as string } : {}),
      version: e.version as string,
      ...annotations(e),
    })),
  };
}

// The bytes the publisher signs as a TUF target: stable key order, readable, newline-terminated.
export function serializeRevocationList(list: RevocationList): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify(list, null, 2)}\n`);
}
