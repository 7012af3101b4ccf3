import type { CronSchedule } from '../core/cron.js';

// The longest single wait: the wall clock is read again at least this often, so a clock that is set
// (NTP after boot, a board without an RTC) moves the next run with it instead of a stale timer firing.
export const MAX_WAIT_MS = 60_000;

export interface CronTask {
  nextRun(): Date | null;
  stop(): void;
}

export interface CronClock {
  now(): Date;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realClock: CronClock = {
  now: () => new Date(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

// Calls `fire` at each time `schedule` matches. A run more than MAX_WAIT_MS overdue when the timer wakes
// (the clock jumped forward, the system was suspended) is skipped, not caught up: the next match counts.
export function scheduleCron(schedule: CronSchedule, fire: () => void, clock: CronClock = realClock): CronTask {
  let due = schedule.next(clock.now());
  let timer: unknown;
  const arm = (): void => {
    timer = due ? clock.setTimeout(wake, Math.max(0, Math.min(MAX_WAIT_MS, due.getTime() - clock.now().getTime()))) : undefined;
  };
  const wake = (): void => {
    if (!due) return;
    const t = clock.now();
    const late = t.getTime() - due.getTime();
    if (late >= 0) {
      due = schedule.next(t);
      if (late <= MAX_WAIT_MS) fire();
    }
    arm();
  };
  arm();
  return {
    nextRun: () => due,
    stop: () => {
      clock.clearTimeout(timer);
      due = null;
    },
  };
}
