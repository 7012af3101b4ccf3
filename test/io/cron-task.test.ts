import { expect } from 'chai';
import { parseCron } from '../../src/core/cron.js';
import { MAX_WAIT_MS, scheduleCron, type CronClock } from '../../src/io/cron-task.js';

// A clock the test sets by hand; timers are armed, never slept.
function manualClock(start: string): CronClock & { at: number; armed: { fn: () => void; ms: number }[]; fireNext(): void } {
  const c = {
    at: Date.parse(start),
    armed: [] as { fn: () => void; ms: number }[],
    now: () => new Date(c.at),
    setTimeout: (fn: () => void, ms: number) => c.armed.push({ fn, ms }),
    clearTimeout: () => undefined,
    fireNext: () => c.armed.shift()?.fn(),
  };
  return c;
}

describe('cron task (src/io/cron-task.ts)', () => {
  it('fires at each match, waking at least every MAX_WAIT_MS so a clock that is set moves the run', () => {
    const clock = manualClock('2026-06-01T10:00:00Z');
    const fired: string[] = [];
    const task = scheduleCron(parseCron('*/5 * * * *'), () => fired.push(clock.now().toISOString()), clock);
    expect(task.nextRun()?.toISOString()).to.equal('2026-06-01T10:05:00.000Z');
    expect(clock.armed[0].ms).to.equal(MAX_WAIT_MS); // 5 min away: woken after a minute to look again
    clock.at = Date.parse('2026-06-01T10:05:00Z');
    clock.fireNext();
    expect(fired).to.deep.equal(['2026-06-01T10:05:00.000Z']);
    expect(task.nextRun()?.toISOString()).to.equal('2026-06-01T10:10:00.000Z');
    task.stop();
    expect(task.nextRun()).to.equal(null);
  });

  it('skips a run the clock jumped over (NTP setting a board from 1970) instead of firing late', () => {
    const clock = manualClock('1970-01-01T00:00:30Z');
    let fired = 0;
    const task = scheduleCron(parseCron('0 3 * * *'), () => void fired++, clock);
    clock.at = Date.parse('2026-06-01T12:00:00Z');
    clock.fireNext();
    expect(fired).to.equal(0);
    expect(task.nextRun()?.toISOString()).to.equal('2026-06-02T03:00:00.000Z');
  });
});
