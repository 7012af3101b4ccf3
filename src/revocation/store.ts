import { createHash } from 'node:crypto';
import { EdgesealError } from '../core/errors.js';
import { MAX_REVOCATION_LIST_BYTES, parseIsoUtc, parseRevocationList, type RevocationList } from './list.js';

// What TUF authenticated about `revocations/list.json` (targets metadata of the `revocations` role).
export interface VerifiedTargetInfo {
  readonly length: number;
  readonly sha256: string;
}

export type Freshness = 'fresh' | 'stale' | 'expired' | 'never';

export interface RevocationStatus {
  readonly state: Freshness;
  readonly version: number | undefined; // of the list held, if any
  readonly highestVersion: number; // floor a new list must meet (persisted; may come from the TPM)
  readonly ageDays: number | undefined; // since the list was issued; negative means the clock is behind
  readonly expires: string | undefined;
  readonly list: RevocationList | undefined;
  readonly sha256?: string; // of the held list's bytes, to authenticate against TUF metadata (absent: none held)
}

// What the cache adapter persists and hands back at start.
export interface RevocationStoreState {
  readonly highestVersion: number;
  readonly accepted?: { readonly bytes: Uint8Array; readonly info: VerifiedTargetInfo };
}

export interface RevocationStoreOptions {
  readonly graceDays: number; // a list past `expires` is 'stale' for this long, then 'expired'
  readonly floorVersion?: number; // external anti-rollback floor, e.g. a TPM NV counter
  readonly maxLength?: number;
}

const DAY_MS = 86_400_000;

const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

// Holds the one trusted revocation list and enforces its update rules; pure (no I/O, explicit `now`),
// in the shape of tuf-js's TrustedMetadataStore.
export class RevocationStore {
  readonly #opts: RevocationStoreOptions;
  #highest: number;
  #list: RevocationList | undefined;
  #accepted: RevocationStoreState['accepted'];

  constructor(opts: RevocationStoreOptions, state: RevocationStoreState = { highestVersion: 0 }) {
    if (!Number.isFinite(opts.graceDays) || opts.graceDays < 0) {
      throw new EdgesealError('CONFIG_INVALID', `revocation graceDays: expected a number ≥ 0, found ${opts.graceDays}`);
    }
    this.#opts = opts;
    this.#highest = Math.max(state.highestVersion, opts.floorVersion ?? 0);
    if (state.accepted) this.#restore(state.accepted);
  }

  // Re-checks persisted bytes against the digest recorded when TUF verified them; a mismatch is a
  // damaged or tampered cache, never a list to trust.
  #restore(accepted: NonNullable<RevocationStoreState['accepted']>): void {
    const { bytes, info } = accepted;
    const found = sha256Hex(bytes);
    if (bytes.length !== info.length || found !== info.sha256) {
      throw new EdgesealError('STORAGE_ERROR', `cached revocation list: expected ${info.length} bytes with sha256 ${info.sha256}, found ${bytes.length} bytes with sha256 ${found}`);
    }
    let list: RevocationList;
    try {
      list = parseRevocationList(bytes, this.#opts.maxLength ?? MAX_REVOCATION_LIST_BYTES);
    } catch (err) {
      throw new EdgesealError('STORAGE_ERROR', `cached revocation list no longer parses: ${(err as Error).message}`, { cause: err });
    }
    if (list.version > this.#highest) {
      throw new EdgesealError('STORAGE_ERROR', `cached revocation list: expected version ≤ recorded highest ${this.#highest}, found ${list.version}`);
    }
    // A floor above the cached list means a newer list was accepted before: the cache was rolled back.
    if (list.version < this.#highest) {
      throw new EdgesealError('ROLLBACK', `cached revocation list: expected version ≥ floor ${this.#highest}, found ${list.version}`);
    }
    this.#list = list;
    this.#accepted = accepted;
  }

  // Accepts a newly fetched list or throws; on any throw the previously held list stays in force.
  // `supersede`: the caller checked `info` against metadata verified from the pinned root, which names one
  // list per version, so a different held document under the same version is the one not vouched for.
  update(bytes: Uint8Array, info: VerifiedTargetInfo, now: Date, opts: { supersede?: boolean } = {}): RevocationList {
    if (bytes.length !== info.length) {
      throw new EdgesealError('LENGTH_MISMATCH', `revocation list: expected ${info.length} bytes (TUF target info), found ${bytes.length}`);
    }
    const found = sha256Hex(bytes);
    if (found !== info.sha256.toLowerCase()) {
      throw new EdgesealError('DIGEST_MISMATCH', `revocation list: expected sha256 ${info.sha256} (TUF target info), found ${found}`);
    }
    const list = parseRevocationList(bytes, this.#opts.maxLength ?? MAX_REVOCATION_LIST_BYTES);
    // Same rule as TUF client workflow 5.5.5: a list's version never goes down.
    if (list.version < this.#highest) {
      throw new EdgesealError('ROLLBACK', `revocation list: expected version ≥ ${this.#highest}, found ${list.version}`);
    }
    if (list.version === this.#highest && this.#accepted) {
      if (this.#accepted.info.sha256 === found) return list;
      // Two different documents under one version: one of them is not what the publisher meant.
      if (!opts.supersede) throw new EdgesealError('ROLLBACK', `revocation list: version ${list.version} is already held with sha256 ${this.#accepted.info.sha256}, found different content ${found}`);
    }
    if (now.getTime() >= parseIsoUtc(list.expires)) {
      throw new EdgesealError('EXPIRED', `revocation list version ${list.version}: expected expiry after ${now.toISOString()}, found ${list.expires}`);
    }
    this.#highest = list.version;
    this.#list = list;
    this.#accepted = { bytes, info: { length: info.length, sha256: found } };
    return list;
  }

  // Freshness of the held list at `now`: fresh until `expires`, stale within the grace period, then expired.
  current(now: Date): RevocationStatus {
    const list = this.#list;
    if (!list) return { state: 'never', version: undefined, highestVersion: this.#highest, ageDays: undefined, expires: undefined, list: undefined };
    const t = now.getTime();
    const expires = parseIsoUtc(list.expires);
    const state: Freshness = t < expires ? 'fresh' : t < expires + this.#opts.graceDays * DAY_MS ? 'stale' : 'expired';
    return { state, version: list.version, highestVersion: this.#highest, ageDays: (t - parseIsoUtc(list.issued)) / DAY_MS, expires: list.expires, list, sha256: this.#accepted?.info.sha256 };
  }

  state(): RevocationStoreState {
    return { highestVersion: this.#highest, ...(this.#accepted ? { accepted: this.#accepted } : {}) };
  }
}
