import { expect } from 'chai';
import { installProgress } from '../../src/agent/install-progress.js';
import type { InstallProgress } from '../../src/telemetry/publisher.js';

const MIB = 1024 * 1024;

describe('install progress outlets (log, STATUS=, telemetry status)', () => {
  it('sends the same planned line to the log and STATUS=, and the figure to the status topic', () => {
    let now = Date.parse('2026-12-06T07:00:00Z');
    const logged: string[] = [];
    const status: string[] = [];
    const published: InstallProgress[] = [];
    const onProgress = installProgress({ log: (line) => logged.push(line), status: (t) => status.push(t), publish: (p) => published.push(p) }, () => now);
    for (const [dt, mib] of [[0, 0], [1000, 50], [1000, 110]] as const) {
      now += dt;
      onProgress({ received: mib * MIB, total: 1024 * MIB, resumedFrom: 0 }, 'fw.bin');
    }
    expect(logged).to.deep.equal(['fw.bin install: 0% (0.0/1024.0 MiB) at 0.0 MiB/s', 'fw.bin install: 10% (110.0/1024.0 MiB) at 55.0 MiB/s, ETA 0:17']);
    expect(status).to.deep.equal(logged);
    expect(published.at(-1)).to.deep.equal({ phase: 'install', target: 'fw.bin', done: 110 * MIB, total: 1024 * MIB, percent: 10, bytesPerSecond: 55 * MIB, at: '2026-12-06T07:00:02.000Z' });
  });

  it('starts the lines again at 0 % for the re-read of the slot (phase verify)', () => {
    const out: string[] = [];
    const onProgress = installProgress({ status: (t) => out.push(t) }, () => 0);
    onProgress({ received: 1024 * MIB, total: 1024 * MIB, resumedFrom: 0 }, 'fw.bin');
    onProgress({ received: 1 * MIB, total: 1024 * MIB, resumedFrom: 0, phase: 'verify' }, 'fw.bin');
    expect(out).to.deep.equal(['fw.bin install: 100% (1024.0/1024.0 MiB) at 0.0 MiB/s', 'fw.bin verify: 0% (1.0/1024.0 MiB) at 0.0 MiB/s']);
  });

  it('says nothing for an image of 64 MiB or less', () => {
    const out: string[] = [];
    const onProgress = installProgress({ log: (l) => out.push(l), status: (t) => out.push(t) }, () => 0);
    onProgress({ received: 64 * MIB, total: 64 * MIB, resumedFrom: 0 }, 'small.bin');
    expect(out).to.deep.equal([]);
  });
});
