import { expect } from 'chai';
import { fullBucket, takeTokens, type BucketRate, type BucketState } from '../../src/net/token-bucket.js';

// The bucket with an injected clock: a transfer of chunks is simulated, each released after its wait.
function simulate(rate: BucketRate, chunks: readonly number[], gapMs = 0): { releases: { at: number; bytes: number }[] } {
  let state: BucketState = fullBucket(rate, 0);
  let now = 0;
  const releases: { at: number; bytes: number }[] = [];
  for (const bytes of chunks) {
    const r = takeTokens(state, rate, now, bytes);
    state = r.state;
    now += r.waitMs;
    releases.push({ at: now, bytes });
    now += gapMs;
  }
  return { releases };
}

describe('net/token-bucket', () => {
  const rate: BucketRate = { bytesPerSecond: 10_000, burstBytes: 10_000 };

  it('lets a burst through at once, then makes the caller wait for the deficit', () => {
    const first = takeTokens(fullBucket(rate, 0), rate, 0, 10_000);
    expect(first.waitMs).to.equal(0);
    const second = takeTokens(first.state, rate, 0, 5_000);
    expect(second.waitMs).to.equal(500);
    // half a second later the 5,000-byte debt is paid: the next 5,000 bytes wait another 500 ms
    expect(takeTokens(second.state, rate, 500, 5_000).waitMs).to.equal(500);
  });

  it('never releases more than burst + rate × t by any time t, whatever the chunk sizes', () => {
    const chunks = Array.from({ length: 400 }, (_, i) => [1, 700, 16_384, 65_536, 3_000][i % 5]);
    const { releases } = simulate(rate, chunks);
    let released = 0;
    for (const r of releases) {
      released += r.bytes;
      expect(released, `at ${r.at} ms`).to.be.at.most(rate.burstBytes + (rate.bytesPerSecond * r.at) / 1000 + 1);
    }
    // and it is not slower than the rate: the whole transfer ends within a second of the ideal
    const total = chunks.reduce((a, b) => a + b, 0);
    expect(releases.at(-1)!.at).to.be.at.most(((total - rate.burstBytes) / rate.bytesPerSecond) * 1000 + 1000);
  });

  it('refills while idle, but never beyond the burst', () => {
    const drained = takeTokens(fullBucket(rate, 0), rate, 0, 10_000).state;
    expect(takeTokens(drained, rate, 60_000, 10_000).waitMs, 'after a minute idle').to.equal(0);
    expect(takeTokens(drained, rate, 60_000, 20_000).waitMs, 'the burst caps what idling saved').to.equal(1000);
  });

  it('a clock that steps back refills nothing and keeps the debt', () => {
    const owing = takeTokens(fullBucket(rate, 10_000), rate, 10_000, 20_000).state;
    expect(takeTokens(owing, rate, 0, 1).waitMs).to.equal(1001);
  });
});
