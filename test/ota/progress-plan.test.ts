import { expect } from 'chai';
import { planProgress, type ProgressEmit, type ProgressMemo, type ProgressTick } from '../../src/ota/progress-plan.js';

const MIB = 1024 * 1024;

// Feeds ticks through the planner the way an adapter does; returns what each one emitted.
function run(ticks: readonly Omit<ProgressTick, 'total'>[], total: number, tty: boolean): ProgressEmit[] {
  let memo: ProgressMemo | undefined;
  return ticks.map((t) => {
    const planned = planProgress('write', memo, { ...t, total }, tty);
    memo = planned.memo;
    return planned.emit;
  });
}

describe('progress planner (pure)', () => {
  it('emits a line at the start, at each new 10 % step, after 5 s without one, and at the end of long work', () => {
    const emits = run(
      [
        { done: 0, now: 0 },
        { done: 50 * MIB, now: 1000 },
        { done: 110 * MIB, now: 2000 },
        { done: 150 * MIB, now: 7000 },
        { done: 1024 * MIB, now: 7100 },
      ],
      1024 * MIB,
      false,
    );
    expect(emits.map((e) => e.line)).to.deep.equal([
      'write: 0% (0.0/1024.0 MiB) at 0.0 MiB/s',
      undefined,
      'write: 10% (110.0/1024.0 MiB) at 55.0 MiB/s, ETA 0:17',
      'write: 14% (150.0/1024.0 MiB) at 21.4 MiB/s, ETA 0:41',
      'write: 100% (1024.0/1024.0 MiB) at 144.2 MiB/s',
    ]);
    expect(emits[2]?.report).to.deep.equal({ phase: 'write', done: 110 * MIB, total: 1024 * MIB, percent: 10, bytesPerSecond: 55 * MIB });
    expect(emits.every((e) => e.bar === undefined), 'no terminal, no bar').to.be.true;
  });

  it('stays silent for work up to 64 MiB without a terminal, and draws the bar for it on one', () => {
    const ticks = [
      { done: 0, now: 0 },
      { done: 10 * MIB, now: 100 },
      { done: 20 * MIB, now: 250 },
      { done: 64 * MIB, now: 260 },
    ];
    expect(run(ticks, 64 * MIB, false)).to.deep.equal([{}, {}, {}, {}]);
    const drawn = run(ticks, 64 * MIB, true).map((e) => (e.bar ? `${e.bar.done / MIB}@${e.bar.elapsedMs}` : '-'));
    expect(drawn).to.deep.equal(['0@0', '-', '20@250', '64@260']);
  });

  it('does not count bytes already in place at a resume as speed', () => {
    const [, second] = run(
      [
        { done: 512 * MIB, now: 0, resumedFrom: 512 * MIB },
        { done: 612 * MIB, now: 5000, resumedFrom: 512 * MIB },
      ],
      1024 * MIB,
      false,
    );
    expect(second?.line).to.equal('write: 59% (612.0/1024.0 MiB) at 20.0 MiB/s, ETA 0:21');
  });
});
