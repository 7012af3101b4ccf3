import { parseCron } from '../core/cron.js';
import { EdgesealError } from '../core/errors.js';
import { scheduleCron, type CronTask } from '../io/cron-task.js';
import { backoffDelay, type BackoffPolicy } from '../telemetry/backoff.js';

// The agent's periodic jobs (cron, src/core/cron.ts) with jitter so a fleet does not stampede its mirror, run one
// at a time, and stoppable: stop() cancels pending starts, aborts the running job and waits for it.

export interface Job {
  readonly name: string;
  readonly cron: string;
  readonly jitterSeconds: number;
  // With a backoff, a run that answers 'retry' (or throws) runs again after a growing, jittered delay
  // instead of waiting for its next cron tick; a success resets the delay.
  readonly backoff?: BackoffPolicy;
  run(signal: AbortSignal): Promise<void | 'retry'>;
}

export interface SchedulerDeps {
  readonly random: () => number; // [0, 1), injectable for tests
  readonly setTimeout: (fn: () => void, ms: number) => unknown;
  readonly clearTimeout: (handle: unknown) => void;
  readonly onError: (job: string, err: unknown) => void;
  readonly onCoalesced: (job: string) => void; // a run asked for while the same job was queued or running
}

export const realTimers = {
  setTimeout: (fn: () => void, ms: number): unknown => setTimeout(fn, ms),
  clearTimeout: (h: unknown): void => clearTimeout(h as NodeJS.Timeout),
};

export class Scheduler {
  readonly #deps: SchedulerDeps;
  readonly #tasks = new Map<string, CronTask>();
  readonly #pending = new Set<unknown>();
  readonly #abort = new AbortController();
  readonly #failures = new Map<string, number>();
  readonly #inFlight = new Map<string, Promise<void>>(); // queued or running, by job name
  #chain: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(deps: SchedulerDeps) {
    this.#deps = deps;
  }

  add(job: Job): void {
    let schedule;
    try {
      schedule = parseCron(job.cron);
    } catch (err) {
      throw new EdgesealError('CONFIG_INVALID', `${job.name} schedule: expected a cron expression, found ${JSON.stringify(job.cron)}`, { cause: err });
    }
    this.#tasks.get(job.name)?.stop();
    this.#tasks.set(job.name, scheduleCron(schedule, () => this.#tick(job)));
  }

  // Runs a job now (behind any running one), e.g. an operator's or a fleet command's nudge. A job that
  // is already queued or running is not queued again: the request joins that run, so a flood of nudges
  // costs one TUF refresh, not one each.
  runNow(job: Job): Promise<void> {
    const inFlight = this.#inFlight.get(job.name);
    if (inFlight) {
      this.#deps.onCoalesced(job.name);
      return inFlight;
    }
    const run = this.#chain.then(async () => {
      if (this.#stopped) return;
      let result: void | 'retry' = 'retry';
      try {
        result = await job.run(this.#abort.signal);
      } catch (err) {
        this.#deps.onError(job.name, err);
      }
      if (job.backoff) this.#afterRun(job, job.backoff, result === 'retry');
    }).finally(() => this.#inFlight.delete(job.name));
    this.#inFlight.set(job.name, run);
    this.#chain = run;
    return run;
  }

  #tick(job: Job): void {
    this.#later(job, Math.floor(this.#deps.random() * job.jitterSeconds * 1000));
  }

  #afterRun(job: Job, policy: BackoffPolicy, failed: boolean): void {
    if (!failed) return void this.#failures.delete(job.name);
    const failures = this.#failures.get(job.name) ?? 0;
    this.#failures.set(job.name, failures + 1);
    if (!this.#stopped) this.#later(job, backoffDelay(failures, policy, this.#deps.random));
  }

  #later(job: Job, ms: number): void {
    const handle = this.#deps.setTimeout(() => {
      this.#pending.delete(handle);
      void this.runNow(job);
    }, ms);
    this.#pending.add(handle);
  }

  nextRuns(): Record<string, string | null> {
    return Object.fromEntries([...this.#tasks].map(([name, t]) => [name, t.nextRun()?.toISOString() ?? null]));
  }

  clear(): void {
    for (const t of this.#tasks.values()) t.stop();
    this.#tasks.clear();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.clear();
    for (const h of this.#pending) this.#deps.clearTimeout(h);
    this.#pending.clear();
    this.#abort.abort(new EdgesealError('INSTALL_FAILED', 'agent stopping'));
    await this.#chain;
  }
}
