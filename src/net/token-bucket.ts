// A token bucket for the update bandwidth cap (update.maxBytesPerSecond), pure: the caller passes the
// time. Bytes may be taken past an empty bucket (a chunk is never split by the cap); the debt is what
// the caller waits for before it hands the chunk on, so that from any start, the bytes released by
// time t are at most `burst + rate × t`.

export interface BucketState {
  readonly tokens: number; // may be negative: bytes released ahead of the rate, still to be paid for
  readonly at: number; // ms timestamp of the last take
}

export interface BucketRate {
  readonly bytesPerSecond: number;
  readonly burstBytes: number; // what an idle bucket holds: the largest release without a wait
}

export function fullBucket(rate: BucketRate, now: number): BucketState {
  return { tokens: rate.burstBytes, at: now };
}

// Takes `bytes` at `now`: the new state and how long (ms) to wait before releasing them.
export function takeTokens(state: BucketState, rate: BucketRate, now: number, bytes: number): { state: BucketState; waitMs: number } {
  const elapsed = Math.max(0, now - state.at); // a clock that steps back refills nothing
  const refilled = Math.min(rate.burstBytes, state.tokens + (elapsed * rate.bytesPerSecond) / 1000);
  const tokens = refilled - bytes;
  const waitMs = tokens < 0 ? Math.ceil((-tokens * 1000) / rate.bytesPerSecond) : 0;
  return { state: { tokens, at: Math.max(now, state.at) }, waitMs };
}
