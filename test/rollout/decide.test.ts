import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { keyFromSeed, keyIdOf } from '../../src/crypto/ed25519.js';
import { decideRollout, percentAt, rolloutBucket } from '../../src/rollout/decide.js';
import type { TargetRollout } from '../../src/rollout/policy.js';

// Simulated device identities: report keys derived from fixed seeds, so every run sees the same fleet.
function identity(i: number): Uint8Array {
  return Buffer.from(keyFromSeed(createHash('sha256').update(`device-${i}`).digest()).publicHex, 'hex');
}
const FLEET = Array.from({ length: 200 }, (_, i) => identity(i));
const SALT = 'a5'.repeat(16);
const NOW = new Date('2026-03-04T12:00:00Z');

describe('rollout decision', () => {
  it('bucket is SHA-256(key ‖ salt) as a big-endian integer mod 10000 (the collector computes the same)', () => {
    const key = FLEET[0];
    const salt = Buffer.from(SALT, 'hex');
    const big = BigInt(`0x${createHash('sha256').update(Buffer.concat([key, salt])).digest('hex')}`) % 10000n;
    expect(rolloutBucket(key, salt)).to.equal(Number(big));
  });

  // 200 draws at p = 0.25: binomial σ = √(200·0.25·0.75) ≈ 6.1 devices. ±21 devices (3.4σ, share 14.5 %–35.5 %)
  // fails a correct uniform hash with probability < 0.1 % per salt, but catches a bucket that ignores the key
  // (0 or 200 in) or the salt (every salt the same cohort).
  it('puts 25 % ± 3.4σ of 200 simulated devices in a 25 % cohort, for each of 5 salts', () => {
    const cohorts = ['01', '02', '03', '04', '05'].map((b) => {
      const rollout: TargetRollout = { salt: b.repeat(16), percent: 25 };
      const inCohort = FLEET.filter((k) => decideRollout(rollout, k, NOW).inCohort).length;
      expect(inCohort, `salt ${b}`).to.be.within(29, 71);
      return FLEET.map((k) => decideRollout(rollout, k, NOW).inCohort).join();
    });
    expect(new Set(cohorts).size, 'each salt picks a different cohort').to.equal(5);
  });

  it('gives the same identity the same answer every time', () => {
    const rollout: TargetRollout = { salt: SALT, percent: 50 };
    for (const k of FLEET.slice(0, 20)) expect(decideRollout(rollout, k, NOW)).to.deep.equal(decideRollout({ ...rollout }, Uint8Array.from(k), new Date(NOW)));
  });

  it('explains the decision with bucket and threshold', () => {
    const d = decideRollout({ salt: SALT, percent: 50 }, FLEET[3], NOW);
    expect(d.threshold).to.equal(5000);
    expect(d.reason).to.equal(d.inCohort ? `in rollout cohort (${d.bucket} < 5000)` : `not yet in rollout (${d.bucket} ≥ 5000)`);
    expect(decideRollout({ salt: SALT, percent: 0 }, FLEET[3], NOW).reason).to.equal(`not yet in rollout (${d.bucket} ≥ 0)`);
    expect(decideRollout({ salt: SALT, percent: 100 }, FLEET[3], NOW).inCohort).to.equal(true);
  });

  it('widens with the steps over time and is empty before the start', () => {
    const rollout: TargetRollout = {
      salt: SALT,
      percent: 100,
      start: '2026-03-01T00:00:00Z',
      steps: [{ afterHours: 0, percent: 1 }, { afterHours: 24, percent: 10 }, { afterHours: 72, percent: 50 }, { afterHours: 168, percent: 100 }],
    };
    const at = (iso: string): number => percentAt(rollout, new Date(iso));
    expect([at('2026-02-28T23:59:59Z'), at('2026-03-01T00:00:00Z'), at('2026-03-02T00:00:00Z'), at('2026-03-04T00:00:00Z'), at('2026-03-08T00:00:00Z')]).to.deep.equal([0, 1, 10, 50, 100]);
    const counts = ['2026-03-01T01:00:00Z', '2026-03-02T01:00:00Z', '2026-03-04T01:00:00Z', '2026-03-08T01:00:00Z'].map((t) => FLEET.filter((k) => decideRollout(rollout, k, new Date(t)).inCohort).length);
    expect(counts[3]).to.equal(200);
    // a device once in the cohort stays in it as the steps widen (same bucket, higher threshold)
    expect(counts).to.deep.equal([...counts].sort((a, b) => a - b));
    expect(percentAt({ salt: SALT, percent: 30, start: '2026-03-05T00:00:00Z' }, NOW)).to.equal(0);
  });

  it('lets the allow-list in regardless of bucket, and a halt stops everyone', () => {
    const outside = FLEET.find((k) => !decideRollout({ salt: SALT, percent: 1 }, k, NOW).inCohort)!;
    const allow = [keyIdOf(Buffer.from(outside).toString('hex'))];
    expect(decideRollout({ salt: SALT, percent: 1, allow }, outside, NOW)).to.include({ inCohort: true, reason: 'in canary ring' });
    expect(decideRollout({ salt: SALT, percent: 100, allow, halted: true }, outside, NOW)).to.include({ inCohort: false, reason: 'rollout halted' });
  });
});
