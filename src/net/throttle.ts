import { Transform } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { fullBucket, takeTokens, type BucketRate, type BucketState } from './token-bucket.js';

// The bandwidth cap's adapter: one limiter per transport, shared by every transfer it carries (metadata,
// targets, revocation list), so concurrent downloads share the cap instead of each getting it.
export class RateLimiter {
  readonly rate: BucketRate;
  #state: BucketState;

  constructor(
    bytesPerSecond: number,
    private readonly clock: () => number = Date.now,
    private readonly wait: (ms: number, signal?: AbortSignal) => Promise<unknown> = (ms, signal) => sleep(ms, undefined, signal ? { signal } : {}),
  ) {
    // one second of burst: a short file after an idle period goes out at once
    this.rate = { bytesPerSecond, burstBytes: bytesPerSecond };
    this.#state = fullBucket(this.rate, clock());
  }

  // Resolves when `bytes` may be handed on.
  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    const { state, waitMs } = takeTokens(this.#state, this.rate, this.clock(), bytes);
    this.#state = state;
    if (waitMs > 0) await this.wait(waitMs, signal);
  }

  // The longest the limiter can hold one chunk of `chunkBytes`: what an idle timeout must allow on top.
  holdMs(chunkBytes: number): number {
    return Math.ceil(((chunkBytes + this.rate.burstBytes) * 1000) / this.rate.bytesPerSecond);
  }
}

// A pass-through that hands each chunk on only when the limiter lets it (backpressure pauses the source).
export function throttle(limiter: RateLimiter, signal?: AbortSignal): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      limiter.take(chunk.length, signal).then(
        () => done(null, chunk),
        (err: unknown) => done(err as Error),
      );
    },
  });
}
