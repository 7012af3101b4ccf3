import { asEdgesealError, type EdgesealError } from '../core/errors.js';
import { backoffDelay, type BackoffPolicy } from '../telemetry/backoff.js';
import type { RevocationCache } from './cache.js';
import type { VerifiedTargetInfo } from './store.js';

// Fetches `revocations/list.json` through TUF and returns the bytes with the info TUF authenticated.
export type FetchVerifiedList = () => Promise<{ bytes: Uint8Array; info: VerifiedTargetInfo }>;

export type RefreshOutcome =
  | { readonly ok: true; readonly version: number; readonly changed: boolean }
  | { readonly ok: false; readonly error: EdgesealError; readonly failures: number; readonly retryAt: Date }
  | { readonly ok: 'skipped'; readonly retryAt: Date }; // still backing off from earlier failures

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface RefresherDeps {
  readonly cache: RevocationCache;
  readonly fetchVerified: FetchVerifiedList;
  readonly clock: () => Date;
  readonly timers: Timers;
  readonly random?: () => number; // in [0, 1), for jitter
  readonly backoff?: BackoffPolicy;
  // Outcomes of retries the refresher starts itself (callers of refresh() get theirs returned).
  readonly onRetryOutcome?: (outcome: RefreshOutcome) => void;
}

// A list is valid for weeks: retrying every minute at first, at most every 6 hours, is plenty.
export const REFRESH_BACKOFF: BackoffPolicy = { baseMs: 60_000, maxMs: 6 * 3_600_000 };

// One refresh loop per device: cron, update checks and the CLI call refresh(); failures keep the cached
// list, count up, and arm one retry timer after a growing delay.
export class RevocationRefresher {
  readonly #deps: RefresherDeps;
  #failures = 0;
  #retryAt: Date | undefined;
  #timer: unknown;
  #running: Promise<RefreshOutcome> | undefined;

  constructor(deps: RefresherDeps) {
    this.#deps = deps;
  }

  // `force` (operator, update check) ignores the backoff; scheduled calls respect it.
  async refresh(opts: { force?: boolean } = {}): Promise<RefreshOutcome> {
    const now = this.#deps.clock();
    if (!opts.force && this.#retryAt && now < this.#retryAt) return { ok: 'skipped', retryAt: this.#retryAt };
    // Concurrent triggers share one attempt rather than racing two writes of the cache.
    this.#running ??= this.#attempt().finally(() => (this.#running = undefined));
    return this.#running;
  }

  async #attempt(): Promise<RefreshOutcome> {
    const { cache, fetchVerified, clock } = this.#deps;
    try {
      const before = cache.status(clock()).version;
      const { bytes, info } = await fetchVerified();
      const list = await cache.accept(bytes, info, clock());
      this.#failures = 0;
      this.#retryAt = undefined;
      this.#disarm();
      return { ok: true, version: list.version, changed: list.version !== before };
    } catch (err) {
      this.#failures += 1;
      const delay = backoffDelay(this.#failures - 1, this.#deps.backoff ?? REFRESH_BACKOFF, this.#deps.random ?? Math.random);
      this.#retryAt = new Date(clock().getTime() + delay);
      this.#arm(delay);
      return { ok: false, error: asEdgesealError(err, 'FETCH_FAILED'), failures: this.#failures, retryAt: this.#retryAt };
    }
  }

  #arm(delay: number): void {
    this.#disarm();
    this.#timer = this.#deps.timers.setTimeout(() => {
      this.#timer = undefined;
      // Forced: this timer is the backoff, and a timer firing a millisecond early by the wall clock
      // must not be skipped (that would end the retries silently).
      void this.refresh({ force: true }).then((o) => this.#deps.onRetryOutcome?.(o));
    }, delay);
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.#deps.timers.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  // Cancels a pending retry (agent shutdown).
  stop(): void {
    this.#disarm();
  }
}
