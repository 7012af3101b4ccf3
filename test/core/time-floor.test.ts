import { expect } from 'chai';
import { checkClock, effectiveTime, raiseTimeFloor } from '../../src/core/time-floor.js';
import { expectCode } from '../helpers/expect-code.js';

const T = new Date('2026-06-01T12:00:00Z');
const floor = { at: T, source: 'TUF metadata refresh' };
const minutes = (n: number): Date => new Date(T.getTime() + n * 60_000);

describe('time floor (P5)', () => {
  it('a clock at or after the floor, or within the tolerance behind it, is fine', () => {
    expect(checkClock(minutes(10), floor, 0).ok).to.equal(true);
    expect(checkClock(T, floor, 0).ok).to.equal(true);
    expect(checkClock(minutes(-5), floor, 5 * 60_000).ok).to.equal(true);
    expect(checkClock(minutes(-60), undefined, 0).ok).to.equal(true);
  });

  it('a clock behind the floor by more than the tolerance is CLOCK_BEHIND_FLOOR', () => {
    const c = checkClock(minutes(-6), floor, 5 * 60_000);
    expect(c.ok).to.equal(false);
    if (c.ok) return;
    expect(c.code).to.equal('CLOCK_BEHIND_FLOOR');
    expect(c.behindMs).to.equal(6 * 60_000);
    expect(c.message).to.contain(T.toISOString()).and.to.contain(minutes(-6).toISOString());
  });

  it('expiry is judged at max(clock, floor): a clock set back does not move time back', () => {
    expect(effectiveTime(minutes(-600), floor)).to.deep.equal(T);
    expect(effectiveTime(minutes(1), floor)).to.deep.equal(minutes(1));
    expect(effectiveTime(minutes(-600), undefined)).to.deep.equal(minutes(-600));
  });

  it('the floor only rises', () => {
    expect(raiseTimeFloor(undefined, T, 'a')).to.deep.equal({ at: T, source: 'a' });
    expect(raiseTimeFloor(floor, minutes(1), 'b')).to.deep.equal({ at: minutes(1), source: 'b' });
    expect(raiseTimeFloor(floor, minutes(-1), 'c')).to.equal(undefined);
    expect(raiseTimeFloor(floor, T, 'd')).to.equal(undefined);
  });

  it('refuses an invalid time as evidence', () => {
    expectCode(() => raiseTimeFloor(floor, new Date('not a time'), 'list'), 'MALFORMED_METADATA');
  });
});
