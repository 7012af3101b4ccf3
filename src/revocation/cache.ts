import { readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { EdgesealError, asEdgesealError } from '../core/errors.js';
import { writeFileAtomic } from '../store/atomic-write.js';
import type { RevocationList } from './list.js';
import { RevocationStore, type RevocationStatus, type RevocationStoreOptions, type RevocationStoreState, type VerifiedTargetInfo } from './store.js';

// The device's revocation cache: one file in the state dir holding the last TUF-verified list bytes and
// the highest version ever accepted, replaced atomically so a crash leaves the old or the new state.
export const CACHE_FILE = join('revocations', 'cache.json');
const CACHE_FORMAT = 'edgeseal-revocation-cache';
// The file holds at most one capped list (base64) plus a few fields.
const MAX_CACHE_FILE_BYTES = 2 * 1024 * 1024;

interface CacheFileV1 {
  readonly format: typeof CACHE_FORMAT;
  readonly formatVersion: 1;
  readonly highestVersion: number;
  readonly list?: { readonly length: number; readonly sha256: string; readonly base64: string };
}

export interface CacheStatus extends RevocationStatus {
  // Set when the cache file was found damaged at start (and moved aside); cleared by the next good list.
  readonly cacheProblem: EdgesealError | undefined;
}

export interface RevocationCacheOptions extends RevocationStoreOptions {
  readonly stateDir: string;
  readonly readOnly?: boolean; // inspect only (status commands): report damage, move and write nothing
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

// Reads the floor even from a file whose list is damaged, so corruption never lowers it.
function readFloor(doc: unknown): number | undefined {
  const d = doc as Partial<CacheFileV1> | null;
  return typeof d === 'object' && d !== null && d.format === CACHE_FORMAT && isCount(d.highestVersion) ? d.highestVersion : undefined;
}

function decode(doc: unknown, path: string): RevocationStoreState {
  const d = doc as Partial<CacheFileV1>;
  const floor = readFloor(doc);
  if (floor === undefined || d.formatVersion !== 1) {
    throw new EdgesealError('STORAGE_ERROR', `${path}: expected ${CACHE_FORMAT} formatVersion 1 with a highestVersion, found ${JSON.stringify(doc).slice(0, 120)}`);
  }
  if (d.list === undefined) return { highestVersion: floor };
  const { length, sha256, base64 } = d.list;
  if (!isCount(length) || typeof sha256 !== 'string' || typeof base64 !== 'string') {
    throw new EdgesealError('STORAGE_ERROR', `${path}: expected list { length, sha256, base64 }, found ${JSON.stringify(d.list).slice(0, 120)}`);
  }
  return { highestVersion: floor, accepted: { bytes: Buffer.from(base64, 'base64'), info: { length, sha256 } } };
}

export class RevocationCache {
  readonly #path: string;
  readonly #store: RevocationStore;
  readonly #readOnly: boolean;
  #problem: EdgesealError | undefined;

  private constructor(path: string, store: RevocationStore, opts: RevocationCacheOptions, problem?: EdgesealError) {
    this.#path = path;
    this.#store = store;
    this.#readOnly = opts.readOnly === true;
    this.#problem = problem;
  }

  // Loads the cache at start. A missing file means never fetched; a damaged one is moved aside to
  // `cache.json.corrupt` (unless readOnly) and reported through status().cacheProblem — never silently dropped.
  static async open(opts: RevocationCacheOptions): Promise<RevocationCache> {
    const path = join(opts.stateDir, CACHE_FILE);
    const empty = new RevocationStore(opts); // validates the options before any file is judged
    let raw: Buffer;
    try {
      raw = await readFile(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new RevocationCache(path, empty, opts);
      throw new EdgesealError('STORAGE_ERROR', `could not read ${path}: ${(err as Error).message}`, { cause: err });
    }
    let doc: unknown;
    try {
      if (raw.length > MAX_CACHE_FILE_BYTES) throw new EdgesealError('STORAGE_ERROR', `${path}: expected at most ${MAX_CACHE_FILE_BYTES} bytes, found ${raw.length}`);
      doc = JSON.parse(raw.toString('utf8'));
      return new RevocationCache(path, new RevocationStore(opts, decode(doc, path)), opts);
    } catch (err) {
      const cause = asEdgesealError(err, 'STORAGE_ERROR');
      const problem = new EdgesealError(cause.code === 'ROLLBACK' ? 'ROLLBACK' : 'STORAGE_ERROR', `revocation cache ${path} is damaged${opts.readOnly ? '' : ` (moved to ${path}.corrupt; refetch needed)`}: ${cause.message}`, { cause });
      const floor = Math.max(readFloor(doc) ?? 0, opts.floorVersion ?? 0);
      const cache = new RevocationCache(path, new RevocationStore({ ...opts, floorVersion: floor }), opts, problem);
      if (opts.readOnly) return cache;
      await rename(path, `${path}.corrupt`).catch((e: unknown) => {
        throw new EdgesealError('STORAGE_ERROR', `could not move damaged ${path} aside: ${(e as Error).message}`, { cause: e });
      });
      await cache.#persist();
      return cache;
    }
  }

  // Accepts a TUF-verified list (RevocationStore.update rules) and persists it before returning.
  async accept(bytes: Uint8Array, info: VerifiedTargetInfo, now: Date, opts: { supersede?: boolean } = {}): Promise<RevocationList> {
    if (this.#readOnly) throw new EdgesealError('INTERNAL', `revocation cache ${this.#path} was opened read-only`);
    const list = this.#store.update(bytes, info, now, opts);
    await this.#persist();
    this.#problem = undefined;
    return list;
  }

  status(now: Date): CacheStatus {
    return { ...this.#store.current(now), cacheProblem: this.#problem };
  }

  async #persist(): Promise<void> {
    const { highestVersion, accepted } = this.#store.state();
    const doc: CacheFileV1 = {
      format: CACHE_FORMAT,
      formatVersion: 1,
      highestVersion,
      ...(accepted ? { list: { length: accepted.info.length, sha256: accepted.info.sha256, base64: Buffer.from(accepted.bytes).toString('base64') } } : {}),
    };
    await writeFileAtomic(this.#path, `${JSON.stringify(doc, null, 2)}\n`, 0o600);
  }
}
