import { expect } from 'chai';
import { cronProblem, parseCron } from '../../src/core/cron.js';
import { expectCode } from '../helpers/expect-code.js';

// Local wall-clock times in a time zone, so the expectations read like the schedules.
function inZone<T>(tz: string, fn: () => T): T {
  const before = process.env.TZ;
  process.env.TZ = tz;
  try {
    return fn();
  } finally {
    if (before === undefined) delete process.env.TZ;
    else process.env.TZ = before;
  }
}
const local = (d: Date | null): string | null =>
  d && `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')} ${[d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':')}`;
const next = (expr: string, after: string): string | null => local(parseCron(expr).next(new Date(after)));

describe('cron expressions (src/core/cron.ts)', () => {
  it('finds the next local time strictly after the given one, 5 or 6 fields', () => {
    inZone('UTC', () => {
      expect(next('0 3 * * *', '2026-06-01T12:00:00Z')).to.equal('2026-06-02 03:00:00');
      expect(next('0 3 * * *', '2026-06-01T02:59:59.900Z')).to.equal('2026-06-01 03:00:00');
      expect(next('0 3 * * *', '2026-06-01T03:00:00Z')).to.equal('2026-06-02 03:00:00');
      expect(next('*/15 * * * *', '2026-06-01T10:07:00Z')).to.equal('2026-06-01 10:15:00');
      expect(next('*/10 * * * * *', '2026-06-01T23:59:55Z')).to.equal('2026-06-02 00:00:00');
      expect(next('* * * * * *', '2026-12-31T23:59:59Z')).to.equal('2027-01-01 00:00:00');
      expect(next('5,35 8-10/2 * * *', '2026-06-01T08:40:00Z')).to.equal('2026-06-01 10:05:00');
    });
  });

  it('reads month and weekday names, 7 as Sunday, ? as *, and needs day-of-month AND day-of-week', () => {
    inZone('UTC', () => {
      const sunday = next('0 0 * * 0', '2026-06-01T00:00:00Z');
      expect(sunday).to.equal('2026-06-07 00:00:00');
      expect(next('0 0 * * 7', '2026-06-01T00:00:00Z')).to.equal(sunday);
      expect(next('0 0 ? * SUN', '2026-06-01T00:00:00Z')).to.equal(sunday);
      expect(next('30 4 1 jan-mar *', '2026-06-01T00:00:00Z')).to.equal('2027-01-01 04:30:00');
      expect(next('0 0 13 * fri', '2026-06-01T00:00:00Z')).to.equal('2026-11-13 00:00:00');
      expect(next('0 0 30 2 *', '2026-06-01T00:00:00Z'), '30 February never comes').to.equal(null);
    });
  });

  it('skips a local time that a DST change leaves out and runs once when one repeats', () => {
    inZone('Europe/Berlin', () => {
      // 2026-03-29: 02:00 → 03:00, so 02:30 does not exist that night
      expect(next('30 2 * * *', '2026-03-28T12:00:00Z')).to.equal('2026-03-30 02:30:00');
      // 2026-10-25: 03:00 → 02:00, 02:30 comes twice; the first is the run, then the next day
      const first = parseCron('30 2 * * *').next(new Date('2026-10-24T12:00:00Z'));
      expect(first?.toISOString()).to.equal('2026-10-25T00:30:00.000Z');
      expect(local(parseCron('30 2 * * *').next(first!))).to.equal('2026-10-26 02:30:00');
    });
  });

  it('refuses what it cannot schedule, naming the field (CONFIG_INVALID)', () => {
    for (const [expr, why] of [
      ['every minute', /expected 5 fields .* found 2/],
      ['* * *', /found 3/],
      ['61 * * * *', /minute: expected 0-59, found 61/],
      ['0 24 * * *', /hour: expected 0-23, found 24/],
      ['0 0 0 * *', /day of month: expected 1-31, found 0/],
      ['0 0 * 13 *', /month: expected 1-12, found 13/],
      ['5-1 * * * *', /minute: expected a range from low to high/],
      ['*/0 * * * *', /minute: expected a step of 1 or more/],
      ['0 0 L * *', /day of month: expected a number, found "L"/],
      ['0 0 * * 5#3', /day of week: expected a number or a name, found "5#3"/],
      ['0 0 * * funday', /day of week: expected a number or a name/],
      ['1,,2 * * * *', /minute: expected N, A-B/],
    ] as const) {
      expect(cronProblem(expr), expr).to.match(why);
      expectCode(() => parseCron(expr), 'CONFIG_INVALID');
    }
    expect(cronProblem('0 3 * * *')).to.equal(undefined);
  });
});
