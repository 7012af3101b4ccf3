import { EdgesealError } from '../../core/errors.js';
import type { Delegations, DelegatedRole, Key, MetaFile, Metadata, Role, Root, Signature, Signed, Snapshot, SuccinctRoles, TargetFile, Targets, Timestamp } from './model.js';

// The strict parser of one metadata document's JSON into the model (model.ts). It refuses everything
// @tufjs/models' Metadata.fromJSON refuses, and more where the spec and python-tuf are stricter
// (test/tuf/offline/from-json.test.ts lists each difference). Every refusal is MALFORMED_METADATA
// with the field's path, what was expected and what was found.

export type SignedOf = { root: Root; timestamp: Timestamp; snapshot: Snapshot; targets: Targets };
export type RoleKind = keyof SignedOf;

type Json = Record<string, unknown>;
const TOP_LEVEL_ROLES = ['root', 'targets', 'snapshot', 'timestamp'];

function found(value: unknown): string {
  if (value === undefined) return 'none';
  if (Array.isArray(value)) return 'an array';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

function bad(where: string, expected: string, value: unknown): never {
  throw new EdgesealError('MALFORMED_METADATA', `${where}: expected ${expected}, found ${found(value)}`);
}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function object(v: unknown, where: string): Json {
  return isObject(v) ? v : bad(where, 'an object', v);
}

function string(v: unknown, where: string): string {
  return typeof v === 'string' ? v : bad(where, 'a string', v);
}

function boolean(v: unknown, where: string): boolean {
  return typeof v === 'boolean' ? v : bad(where, 'true or false', v);
}

// Integers only (the spec's versions, lengths and thresholds; @tufjs/models takes any number).
function integer(v: unknown, where: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  return Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max ? (v as number) : bad(where, `an integer from ${min} to ${max}`, v);
}

function strings(v: unknown, where: string): string[] {
  return Array.isArray(v) && v.every((s) => typeof s === 'string') ? v : bad(where, 'an array of strings', v);
}

// Loops rather than Object.values/entries: a verify parses every entry of two large targets files,
// each in a fresh process where this code runs cold.
function stringRecord(v: unknown, where: string): Record<string, string> {
  const o = object(v, where);
  for (const k of Object.keys(o)) if (typeof o[k] !== 'string') bad(where, 'an object of strings', v);
  return o as Record<string, string>;
}

// A map from names to parsed values, the names as own data properties (`__proto__` stays a key).
function record<T>(v: unknown, where: string, each: (value: unknown, name: string) => T): Record<string, T> {
  const o = object(v, where);
  const out: Record<string, T> = {};
  for (const name of Object.keys(o)) {
    if (name === '__proto__') Object.defineProperty(out, name, { value: each(o[name], name), enumerable: true, writable: true, configurable: true });
    else out[name] = each(o[name], name);
  }
  return out;
}

// The fields a document holds besides those the model reads (kept, as @tufjs/models keeps them).
function unrecognized(data: Json, known: readonly string[]): Json {
  return Object.fromEntries(Object.entries(data).filter(([k]) => !known.includes(k)));
}

const COMMON = ['_type', 'spec_version', 'expires', 'version'];

function keyIDs(v: unknown, where: string): string[] {
  const ids = strings(v, `${where}.keyids`);
  if (new Set(ids).size !== ids.length) bad(`${where}.keyids`, 'distinct key ids', v);
  return ids;
}

function role(data: Json, where: string): Role {
  const { keyids, threshold, ...rest } = data;
  return { keyIDs: keyIDs(keyids, where), threshold: integer(threshold, `${where}.threshold`, 1), unrecognizedFields: rest };
}

function key(v: unknown, where: string, keyID: string): Key {
  const { keytype, scheme, keyval, ...rest } = object(v, where);
  return { keyID, keyType: string(keytype, `${where}.keytype`), scheme: string(scheme, `${where}.scheme`), keyVal: stringRecord(keyval, `${where}.keyval`), unrecognizedFields: rest };
}

const keys = (v: unknown, where: string): Record<string, Key> => record(v, where, (k, id) => key(k, `${where}.${id}`, id));

function metaFile(v: unknown, where: string): MetaFile {
  const { version, length, hashes, ...rest } = object(v, where);
  return {
    version: integer(version, `${where}.version`, 1),
    ...(length === undefined ? {} : { length: integer(length, `${where}.length`, 0) }),
    ...(hashes === undefined ? {} : { hashes: stringRecord(hashes, `${where}.hashes`) }),
    unrecognizedFields: rest,
  };
}

function targetFile(v: unknown, path: string, where: string): TargetFile {
  const t = object(v, where);
  const { custom } = t;
  return {
    path,
    length: integer(t.length, `${where}.length`, 0),
    hashes: stringRecord(t.hashes, `${where}.hashes`),
    custom: isObject(custom) ? custom : {}, // TargetFile.custom of @tufjs/models
  };
}

function delegatedRole(v: unknown, where: string): DelegatedRole {
  const { name, terminating, paths, path_hash_prefixes, ...data } = object(v, where);
  // spec §4.5 and python-tuf: exactly one of the two (@tufjs/models accepts neither)
  if ((paths === undefined) === (path_hash_prefixes === undefined)) bad(where, 'exactly one of paths and path_hash_prefixes', v);
  return {
    ...role(data, where),
    name: string(name, `${where}.name`),
    terminating: boolean(terminating, `${where}.terminating`),
    ...(paths === undefined ? {} : { paths: strings(paths, `${where}.paths`) }),
    ...(path_hash_prefixes === undefined ? {} : { pathHashPrefixes: strings(path_hash_prefixes, `${where}.path_hash_prefixes`) }),
  };
}

function succinctRoles(v: unknown, where: string): SuccinctRoles {
  const { bit_length, name_prefix, ...data } = object(v, where);
  const bitLength = integer(bit_length, `${where}.bit_length`, 1, 32);
  const numberOfBins = 2 ** bitLength;
  return { ...role(data, where), bitLength, namePrefix: string(name_prefix, `${where}.name_prefix`), numberOfBins, suffixLen: (numberOfBins - 1).toString(16).length };
}

function delegations(v: unknown, where: string): Delegations {
  const { keys: keyData, roles, succinct_roles, ...rest } = object(v, where);
  // TAP 15 and python-tuf: exactly one (@tufjs/models accepts both, or neither)
  if ((roles === undefined) === (succinct_roles === undefined)) bad(where, 'exactly one of roles and succinct_roles', v);
  const parsed: Delegations = { keys: keys(keyData, `${where}.keys`), unrecognizedFields: rest };
  if (succinct_roles !== undefined) return { ...parsed, succinctRoles: succinctRoles(succinct_roles, `${where}.succinct_roles`) };
  if (!Array.isArray(roles)) bad(`${where}.roles`, 'an array', roles);
  const byName: [string, DelegatedRole][] = [];
  const names = new Set<string>();
  roles.forEach((r, i) => {
    const d = delegatedRole(r, `${where}.roles[${i}]`);
    if (names.has(d.name)) bad(`${where}.roles[${i}].name`, 'a name no other delegated role has', d.name);
    if (TOP_LEVEL_ROLES.includes(d.name)) bad(`${where}.roles[${i}].name`, 'a name that is not a top-level role', d.name);
    names.add(d.name);
    byName.push([d.name, d]);
  });
  return { ...parsed, roles: Object.fromEntries(byName) };
}

function common(data: Json, where: string): Omit<Signed, 'unrecognizedFields'> {
  const spec = string(data.spec_version, `${where}.spec_version`);
  // major version 1, as @tufjs/models; its parts digits, as python-tuf
  if (!/^1\.\d+(\.\d+)?$/.test(spec)) bad(`${where}.spec_version`, 'a 1.x or 1.x.y version', spec);
  const expires = string(data.expires, `${where}.expires`);
  if (Number.isNaN(new Date(expires).getTime())) bad(`${where}.expires`, 'a date and time', expires);
  return { specVersion: spec, expires, version: integer(data.version, `${where}.version`, 1) };
}

function root(data: Json, where: string): Root {
  const roleData = object(data.roles, `${where}.roles`);
  // python-tuf: the four top-level roles and no others (@tufjs/models allows more)
  if (Object.keys(roleData).length !== TOP_LEVEL_ROLES.length || !TOP_LEVEL_ROLES.every((r) => Object.hasOwn(roleData, r))) {
    bad(`${where}.roles`, `exactly the roles ${TOP_LEVEL_ROLES.join(', ')}`, Object.keys(roleData));
  }
  return {
    ...common(data, where),
    unrecognizedFields: unrecognized(data, [...COMMON, 'keys', 'roles', 'consistent_snapshot']),
    keys: keys(data.keys, `${where}.keys`),
    roles: record(roleData, `${where}.roles`, (r, name) => role(object(r, `${where}.roles.${name}`), `${where}.roles.${name}`)),
    consistentSnapshot: boolean(data.consistent_snapshot, `${where}.consistent_snapshot`),
  };
}

function timestamp(data: Json, where: string): Timestamp {
  const snapshot = object(data.meta, `${where}.meta`)['snapshot.json'];
  return { ...common(data, where), unrecognizedFields: unrecognized(data, [...COMMON, 'meta']), snapshotMeta: metaFile(snapshot, `${where}.meta.snapshot.json`) };
}

function snapshot(data: Json, where: string): Snapshot {
  return { ...common(data, where), unrecognizedFields: unrecognized(data, [...COMMON, 'meta']), meta: record(data.meta, `${where}.meta`, (m, file) => metaFile(m, `${where}.meta.${file}`)) };
}

function targets(data: Json, where: string): Targets {
  const d = data.delegations;
  return {
    ...common(data, where),
    unrecognizedFields: unrecognized(data, [...COMMON, 'targets', 'delegations']),
    targets: record(data.targets, `${where}.targets`, (t, path) => targetFile(t, path, `${where}.targets.${path}`)),
    ...(d === undefined ? {} : { delegations: delegations(d, `${where}.delegations`) }),
  };
}

const SIGNED: { [K in RoleKind]: (data: Json, where: string) => SignedOf[K] } = { root, timestamp, snapshot, targets };

function signatures(v: unknown): Record<string, Signature> {
  if (!Array.isArray(v)) bad('signatures', 'an array', v);
  const byKey: [string, Signature][] = [];
  const seen = new Set<string>();
  v.forEach((s, i) => {
    const { keyid, sig } = object(s, `signatures[${i}]`);
    const keyID = string(keyid, `signatures[${i}].keyid`);
    // one signature per key; @tufjs/models also refuses a key id named like an Object.prototype member
    if (seen.has(keyID) || keyID in Object.prototype) bad(`signatures[${i}].keyid`, 'a key id no other signature has', keyID);
    seen.add(keyID);
    byKey.push([keyID, { keyID, sig: string(sig, `signatures[${i}].sig`) }]);
  });
  return Object.fromEntries(byKey);
}

// Metadata.fromJSON(kind, json) of @tufjs/models, as plain data.
export function metadataFromJSON<K extends RoleKind>(kind: K, json: Json): Metadata<SignedOf[K]> {
  const { signed, signatures: sigs, ...rest } = json;
  const data = object(signed, 'signed');
  if (data._type !== kind) bad('signed._type', JSON.stringify(kind), data._type);
  return { signed: SIGNED[kind](data, 'signed'), signatures: signatures(sigs), unrecognizedFields: rest };
}
