import { join } from 'node:path';
import { EdgesealError } from '../core/errors.js';
import { METADATA_MAX_LENGTH } from './limits.js';
import type { MetadataFiles } from './offline/types.js';

// a built-in by process.getBuiltinModule, not import: start-up (src/cli/dispatch.ts says why)
const { lstat, readdir, readFile } = process.getBuiltinModule('node:fs/promises');

// Reads a metadata directory into the offline verifier's `files`. Two layouts are understood:
// the device cache (root.json, timestamp.json, snapshot.json, targets.json, <role>.json and the
// root history roots/N.root.json) and a published repository's metadata/ (N.root.json,
// timestamp.json, N.snapshot.json, N.targets.json, N.<role>.json).
export async function readMetadataDir(dir: string, opts: { initialRoot?: Uint8Array } = {}): Promise<MetadataFiles> {
  const names = await listDir(dir);
  const history = names.includes('roots') ? join(dir, 'roots') : dir;
  const roots = await versionedRoots(history);
  const published = !names.includes('root.json');
  const initialRoot = opts.initialRoot ?? (roots.size ? await readCapped(roots.get(Math.min(...roots.keys()))!, METADATA_MAX_LENGTH.root) : await readCapped(join(dir, 'root.json'), METADATA_MAX_LENGTH.root));
  const first = rootVersionOf(initialRoot);
  const rootChain: Uint8Array[] = [];
  for (let v = first + 1; roots.has(v); v++) rootChain.push(await readCapped(roots.get(v)!, METADATA_MAX_LENGTH.root));
  if (!published) {
    // the cache's root.json is the newest accepted root: it ends the chain when history stops short
    const current = await readCapped(join(dir, 'root.json'), METADATA_MAX_LENGTH.root);
    const last = first + rootChain.length;
    if (rootVersionOf(current) === last + 1) rootChain.push(current);
    // a gap would silently verify against an older root: refuse rather than guess
    else if (rootVersionOf(current) > last) {
      throw new EdgesealError('MALFORMED_METADATA', `${dir}: root history ends at version ${last} but root.json is version ${rootVersionOf(current)} (missing roots/${last + 1}.root.json)`);
    }
  }

  const timestamp = await readCapped(join(dir, 'timestamp.json'), METADATA_MAX_LENGTH.timestamp);
  // Which versioned file to read is taken from the (not yet verified) parent; the verifier then
  // checks the bytes against the verified parent's hash and version, so a lie here only fails.
  const fileFor = (role: string, meta: Record<string, { version?: unknown }>): string => {
    const version = meta[`${role}.json`]?.version;
    return metadataFileName(role, published && typeof version === 'number' ? version : undefined);
  };
  const snapshot = await readCapped(join(dir, fileFor('snapshot', peekMeta(timestamp))), METADATA_MAX_LENGTH.snapshot);
  const snapMeta = peekMeta(snapshot);
  const targets = await readCapped(join(dir, fileFor('targets', snapMeta)), METADATA_MAX_LENGTH.targets);
  const delegated: Record<string, Uint8Array> = {};
  for (const entry of Object.keys(snapMeta)) {
    const role = entry.replace(/\.json$/, '');
    if (role === 'targets' || role === entry) continue;
    const file = fileFor(role, snapMeta);
    if (names.includes(file)) delegated[role] = await readCapped(join(dir, file), METADATA_MAX_LENGTH.targets);
  }
  return { initialRoot, rootChain, timestamp, snapshot, targets, delegated };
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    throw new EdgesealError('STORAGE_ERROR', `${dir}: expected a metadata directory, cannot read it: ${(err as Error).message}`, { cause: err });
  }
}

async function versionedRoots(dir: string): Promise<Map<number, string>> {
  const found = new Map<number, string>();
  for (const name of await listDir(dir)) {
    const m = /^([1-9]\d{0,8})\.root\.json$/.exec(name);
    if (m) found.set(Number(m[1]), join(dir, name));
  }
  return found;
}

// Refuses symlinks and oversized files before reading them (a metadata file is never a link).
export async function readCapped(path: string, maxLength: number): Promise<Uint8Array> {
  let st;
  try {
    st = await lstat(path);
  } catch (err) {
    throw new EdgesealError('STORAGE_ERROR', `${path}: expected a metadata file, cannot read it: ${(err as Error).message}`, { cause: err });
  }
  if (st.isSymbolicLink()) throw new EdgesealError('UNSAFE_PATH', `${path}: expected a regular file, found a symlink`);
  if (!st.isFile()) throw new EdgesealError('UNSAFE_PATH', `${path}: expected a regular file, found another kind of file`);
  if (st.size > maxLength) throw new EdgesealError('OVERSIZED', `${path}: expected at most ${maxLength} bytes, found ${st.size}`);
  return readFile(path);
}

function peekJson(bytes: Uint8Array): Record<string, unknown> {
  try {
    const json: unknown = JSON.parse(Buffer.from(bytes).toString('utf8'));
    return typeof json === 'object' && json !== null ? (json as Record<string, unknown>) : {};
  } catch {
    return {}; // the verifier reports malformed metadata with its code
  }
}

function peekMeta(bytes: Uint8Array): Record<string, { version?: unknown }> {
  const signed = peekJson(bytes).signed as { meta?: unknown } | undefined;
  return typeof signed?.meta === 'object' && signed.meta !== null ? (signed.meta as Record<string, { version?: unknown }>) : {};
}

function rootVersionOf(bytes: Uint8Array): number {
  const version = (peekJson(bytes).signed as { version?: unknown } | undefined)?.version;
  return typeof version === 'number' && Number.isSafeInteger(version) ? version : 1;
}

// A role's metadata file name: N.<role>.json under consistent snapshots (client 5.6.1), else <role>.json.
export function metadataFileName(role: string, version: number | undefined): string {
  const base = encodeURIComponent(role);
  return version === undefined ? `${base}.json` : `${version}.${base}.json`;
}
