import { expect } from 'chai';
import { bootProgress } from '../../src/agent/boot-progress.js';

const MIB = 1024 * 1024;
const percents = (lines: readonly string[]): number[] => lines.map((l) => Number(/: (\d+)% /.exec(l)?.[1]));

// One figure over all the boot check's images, however their digests interleave (issue 12 F).
describe('boot check progress (all images as one figure)', () => {
  it('is monotonic while images interleave and a second read starts over, and says 100 % once, when every image is settled', () => {
    let now = 0;
    const logged: { line: string; fields: Record<string, unknown> }[] = [];
    const status: string[] = [];
    const p = bootProgress([40 * MIB, 40 * MIB, 20 * MIB], { log: (line, fields) => logged.push({ line, fields }), status: (t) => status.push(t) }, () => now);
    expect(p).to.not.equal(undefined);
    const steps: [number, number][] = [[0, 8], [1, 8], [0, 16], [1, 24], [0, 40], [1, 40], [2, 8], [2, 4], [2, 20]];
    for (const [i, mib] of steps) {
      now += 1000;
      p!.image(i, mib * MIB);
      if (mib === 40) p!.settled(i);
    }
    p!.image(2, 2 * MIB); // a second read of the same image (checkImage re-judging it) never moves the figure back
    now += 1000;
    p!.settled(2);
    p!.settled(2);
    const lines = logged.map((l) => l.line);
    expect(percents(lines)).to.deep.equal([...percents(lines)].sort((a, b) => a - b));
    expect(percents(lines).filter((x) => x === 100)).to.have.length(1);
    expect(lines.at(-1)).to.match(/^boot check: 100% \(100\.0\/100\.0 MiB\) at [\d.]+ MiB\/s; 3\/3 images$/);
    expect(logged.at(-1)!.fields).to.deep.equal({ done: 100 * MIB, total: 100 * MIB, images: 3, imagesDone: 3 });
    // a line for the first report, then one per new 10 % step
    expect(lines[0]).to.match(/^boot check: 8% .*; 0\/3 images$/);
    expect(lines.length).to.be.within(5, steps.length + 1);
    expect(status).to.deep.equal(lines);
  });

  it('holds at 99 % while bytes are all in but an image is not settled yet', () => {
    const logged: string[] = [];
    const p = bootProgress([70 * MIB], { log: (line) => logged.push(line) }, () => 0)!;
    p.image(0, 70 * MIB);
    expect(logged.at(-1)).to.match(/^boot check: 99% .*; 0\/1 images$/);
    p.settled(0);
    expect(logged.at(-1)).to.match(/^boot check: 100% .*; 1\/1 images$/);
  });

  it('shows nothing at all for 64 MiB or less in all', () => {
    expect(bootProgress([32 * MIB, 32 * MIB], { log: () => expect.fail('no line expected') })).to.equal(undefined);
  });

  it('draws the bar in place on a terminal, images counted in its label, and ends it with a newline', () => {
    let now = 0;
    const bar: string[] = [];
    const p = bootProgress([50 * MIB, 50 * MIB], { bar: (t) => bar.push(t) }, () => now)!;
    p.image(0, 10 * MIB);
    now += 300;
    p.image(1, 30 * MIB);
    p.settled(0);
    p.settled(1);
    expect(bar.every((t) => t.startsWith('\r\x1b[K  boot check ('))).to.be.true;
    expect(bar[0]).to.contain('(0/2 images)').and.contain('  10% ');
    expect(bar.at(-1)).to.match(/\(2\/2 images\) \[#+\] 100% 100\.0\/100\.0 MiB .*\n$/);
    expect(bar.filter((t) => t.endsWith('\n'))).to.have.length(1);
  });
});
