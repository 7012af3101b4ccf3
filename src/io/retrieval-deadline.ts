import { EdgesealError } from '../core/errors.js';

// TUF's slow-retrieval attack: a mirror that sends just enough to defeat an idle timeout can hold an
// update forever. Every transfer gets a deadline from the bytes it may carry (the signed length, or
// the configured cap where nothing is signed, e.g. timestamp.json) at the minimum rate, and the whole
// run shares one budget (its AbortSignal).
export interface RetrievalBounds {
  readonly minBytesPerSecond: number;
  readonly floorSeconds: number; // added to every deadline: connect, TLS and tiny files
  readonly signal?: AbortSignal; // the job's stop and the run budget; its reason is thrown as is
}

// 1 KiB/s is below any working link (GPRS does ~5 KiB/s) yet cuts a byte-every-few-seconds trickle of
// timestamp.json (16 KiB cap) after 46 s; the budget lets a run fetch ~21 MB at the minimum rate, and
// an interrupted image download resumes from its .part at the next run.
export const DEFAULT_RETRIEVAL = { minBytesPerSecond: 1024, floorSeconds: 30, runBudgetSeconds: 6 * 3600 } as const;

// setTimeout fires at once past 2^31-1 ms (~24.8 days): longer deadlines are held to that.
const MAX_TIMER_MS = 2 ** 31 - 1;

export function retrievalDeadlineMs(length: number, bounds: RetrievalBounds): number {
  return Math.min(MAX_TIMER_MS, Math.ceil((bounds.floorSeconds + length / bounds.minBytesPerSecond) * 1000));
}

// One transfer's deadline: its signal aborts when the deadline passes or the run's signal does.
export class RetrievalDeadline {
  readonly signal: AbortSignal;
  readonly #controller = new AbortController();
  readonly #started = Date.now();
  readonly #ms: number;
  readonly #timer: NodeJS.Timeout;
  readonly #onParent: () => void;
  #expired = false;

  constructor(
    private readonly file: string,
    private readonly length: number,
    private readonly bounds: RetrievalBounds,
  ) {
    this.#ms = retrievalDeadlineMs(length, bounds);
    this.signal = this.#controller.signal;
    this.#timer = setTimeout(() => {
      this.#expired = true;
      this.#controller.abort(new EdgesealError('SLOW_RETRIEVAL', `${file}: deadline of ${this.#ms} ms passed`));
    }, this.#ms);
    this.#timer.unref();
    this.#onParent = () => this.#controller.abort(bounds.signal?.reason);
    if (bounds.signal?.aborted) this.#onParent();
    else bounds.signal?.addEventListener('abort', this.#onParent, { once: true });
  }

  // The error to report once the signal fired: slow retrieval with the figures, or the run's own reason.
  error(received: number): EdgesealError | undefined {
    if (this.#expired) {
      const elapsed = (Date.now() - this.#started) / 1000;
      return new EdgesealError(
        'SLOW_RETRIEVAL',
        `${this.file}: expected up to ${this.length} bytes at ${this.bounds.minBytesPerSecond} B/s or faster (deadline ${this.#ms / 1000} s including ${this.bounds.floorSeconds} s of slack), received ${received} bytes in ${elapsed.toFixed(1)} s`,
      );
    }
    if (!this.signal.aborted) return undefined;
    const reason: unknown = this.signal.reason;
    return reason instanceof EdgesealError ? reason : new EdgesealError('FETCH_FAILED', `${this.file}: aborted after ${received} bytes`, { cause: reason });
  }

  dispose(): void {
    clearTimeout(this.#timer);
    this.bounds.signal?.removeEventListener('abort', this.#onParent);
  }
}

// The signal a whole update run shares: aborts with SLOW_RETRIEVAL once the budget is spent, or with
// the parent's reason (the agent stopping). dispose() when the run ends.
export function runBudget(seconds: number, parent?: AbortSignal): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new EdgesealError('SLOW_RETRIEVAL', `update run: expected to finish within ${seconds} s (update.runBudgetSeconds), still running`)), seconds * 1000);
  timer.unref();
  const onParent = (): void => controller.abort(parent?.reason);
  if (parent?.aborted) onParent();
  else parent?.addEventListener('abort', onParent, { once: true });
  return {
    signal: controller.signal,
    dispose: () => {
      clearTimeout(timer);
      parent?.removeEventListener('abort', onParent);
    },
  };
}
