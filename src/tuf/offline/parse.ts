import { canonicalize } from '@tufjs/canonical-json';
import { Metadata, TargetFile, type MetadataKind, type Root, type Snapshot, type Targets, type Timestamp } from '@tufjs/models';
import { EdgesealError } from '../../core/errors.js';
import { assertSupportedKeys } from './keys.js';

type Signed = { root: Root; timestamp: Timestamp; snapshot: Snapshot; targets: Targets };
export type RoleKind = keyof Signed;

// One metadata file as parsed: the model, and the canonical JSON of its `signed` object as the file
// holds it, computed once. Signatures are checked against these bytes, never against a model's
// re-serialisation (which costs a full canonicalisation of every target per signature).
export interface ParsedMetadata<T extends Root | Timestamp | Snapshot | Targets> {
  readonly md: Metadata<T>;
  readonly signedBytes: Buffer;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

// Parses one metadata file at the boundary: cap the size before parsing, then JSON, then the
// @tufjs/models schema, then our own stricter checks. Every failure is a coded error, never a crash.
export function parseMetadata<K extends RoleKind>(kind: K, bytes: Uint8Array, maxLength: number, label: string): ParsedMetadata<Signed[K]> {
  if (bytes.length > maxLength) {
    throw new EdgesealError('OVERSIZED', `${label}: expected at most ${maxLength} bytes, found ${bytes.length}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw new EdgesealError('MALFORMED_METADATA', `${label}: expected JSON, found unparsable bytes (${(err as Error).message})`, { cause: err });
  }
  if (!isObject(json)) {
    throw new EdgesealError('MALFORMED_METADATA', `${label}: expected a JSON object, found ${Array.isArray(json) ? 'an array' : typeof json}`);
  }
  let md: Metadata<Signed[K]>;
  let signedBytes: Buffer;
  try {
    md = modelOf(kind, json);
    signedBytes = Buffer.from(canonicalize(json.signed));
  } catch (err) {
    throw new EdgesealError('MALFORMED_METADATA', `${label}: not valid ${kind} metadata: ${(err as Error).message}`, { cause: err });
  }
  const { version } = md.signed;
  if (!Number.isSafeInteger(version) || version < 1) {
    throw new EdgesealError('MALFORMED_METADATA', `${label}: expected a positive integer version, found ${version}`);
  }
  if (kind === 'root') assertSupportedKeys((md.signed as Root).keys, label);
  if (kind === 'targets' && (md.signed as Targets).delegations) assertSupportedKeys((md.signed as Targets).delegations!.keys, label);
  return { md, signedBytes };
}

// Metadata.fromJSON, except that a targets role's target map is filled in one pass: the models build it
// by spreading the map once per entry, quadratic in the number of targets.
function modelOf<K extends RoleKind>(kind: K, json: Record<string, unknown>): Metadata<Signed[K]> {
  const fromJSON = (data: Record<string, unknown>): Metadata<Signed[K]> =>
    Metadata.fromJSON(kind as MetadataKind.Root, data as Parameters<typeof Metadata.fromJSON>[1]) as unknown as Metadata<Signed[K]>;
  const signed = json.signed;
  if (kind !== 'targets' || !isObject(signed) || signed.targets === undefined) return fromJSON(json);
  const { targets, ...rest } = signed;
  // the models' own rule for the target map (guard.isObjectRecord)
  if (typeof targets !== 'object' || targets === null || !Object.values(targets).every((t) => typeof t === 'object' && t !== null)) {
    throw new TypeError('targets must be an object');
  }
  const md = fromJSON({ ...json, signed: rest });
  // fromEntries defines own properties, as the models' spread does: a target named `__proto__` stays data
  const map = Object.fromEntries(Object.entries(targets).map(([path, t]) => [path, TargetFile.fromJSON(path, t as Parameters<typeof TargetFile.fromJSON>[1])]));
  Object.assign(md.signed, { targets: map });
  return md;
}
