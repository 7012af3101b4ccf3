import { expect } from 'chai';
import { formatProgress, progressLine } from '../../src/ota/progress.js';

const MIB = 1024 * 1024;

describe('download progress line', () => {
  it('shows bar, percent, sizes, rate, ETA and where a resume started', () => {
    const line = formatProgress('fw.bin', { received: 3 * MIB, total: 4 * MIB, resumedFrom: 1 * MIB }, 1000);
    expect(line).to.equal('fw.bin [###############-----]  75% 3.0/4.0 MiB 2.0 MiB/s ETA 0:01 (resumed at 1.0 MiB)');
  });

  it('omits the ETA before any time has passed and handles an empty file', () => {
    expect(formatProgress('x', { received: 0, total: 10, resumedFrom: 0 }, 0, 4)).to.equal('x [----]   0% 0.0/0.0 MiB 0.0 MiB/s');
    expect(formatProgress('x', { received: 0, total: 0, resumedFrom: 0 }, 5, 4)).to.equal('x [####] 100% 0.0/0.0 MiB 0.0 MiB/s');
  });

  it('drops the ETA once every byte is in', () => {
    expect(formatProgress('x', { received: 4 * MIB, total: 4 * MIB, resumedFrom: 0 }, 2000, 4)).to.equal('x [####] 100% 4.0/4.0 MiB 2.0 MiB/s');
  });

  it('redraws in place at most once per 200 ms and always ends with the final line', () => {
    let t = 0;
    const out: string[] = [];
    const onProgress = progressLine('fw', (s) => out.push(s), { now: () => t });
    for (const [at, received] of [[0, 1], [100, 2], [300, 3], [310, 10]] as const) {
      t = at;
      onProgress({ received, total: 10, resumedFrom: 0 });
    }
    expect(out).to.have.length(3);
    expect(out.every((s) => s.startsWith('\r\x1b[K'))).to.be.true;
    expect(out[1]).to.contain(' 30% ');
    expect(out[2]).to.match(/100% .*\n$/);
  });
});
