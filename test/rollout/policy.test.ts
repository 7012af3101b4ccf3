import { expect } from 'chai';
import { EdgesealError } from '../../src/core/errors.js';
import { nextRolloutPolicy } from '../../src/rollout/edit.js';
import { assertNarrows, wideningProblems, type SignedView } from '../../src/rollout/narrow.js';
import { parseRolloutPolicy, serializeRolloutPolicy, type RolloutPolicy } from '../../src/rollout/policy.js';

const NOW = new Date('2026-03-01T12:00:00Z');
const SALT = '5a'.repeat(16);
const VIEW: SignedView = { imageTargets: new Set(['fw/board-a/1.1.0.bin']), rolloutRoleTargets: ['rollouts/policy.json'], rolloutRoleDelegations: [] };

function policy(over: Record<string, unknown> = {}): RolloutPolicy {
  return nextRolloutPolicy(undefined, 'fw/board-a/1.1.0.bin', { kind: 'percent', percent: 25 }, { now: NOW, salt: SALT, ...over });
}
const bytes = (doc: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(doc));

function refused(fn: () => unknown, code: string): string {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(EdgesealError);
    expect((err as EdgesealError).code).to.equal(code);
    return (err as Error).message;
  }
  return expect.fail(`expected ${code}`);
}

describe('rollout policy', () => {
  it('round-trips through its signed bytes, one version per edit', () => {
    const p1 = policy();
    expect(parseRolloutPolicy(serializeRolloutPolicy(p1))).to.deep.equal(p1);
    const p2 = nextRolloutPolicy(p1, 'fw/board-a/1.1.0.bin', { kind: 'halt' }, { now: NOW, salt: 'ff'.repeat(16) });
    expect(p2.version).to.equal(2);
    // the salt stays for the life of the rollout: the canary ring and cohort do not move
    expect(p2.rollouts['fw/board-a/1.1.0.bin']).to.deep.equal({ salt: SALT, percent: 25, halted: true });
    const p3 = nextRolloutPolicy(p2, 'fw/board-a/1.1.0.bin', { kind: 'resume' }, { now: NOW, salt: SALT });
    expect(p3.rollouts['fw/board-a/1.1.0.bin']).to.deep.equal({ salt: SALT, percent: 25 });
    expect(() => nextRolloutPolicy(p3, 'fw/board-a/1.1.0.bin', { kind: 'resume' }, { now: NOW, salt: SALT })).to.throw(/halted rollout to resume/);
  });

  it('names every bad field at once, and refuses fields it does not know', () => {
    const doc = JSON.parse(new TextDecoder().decode(serializeRolloutPolicy(policy()))) as Record<string, unknown>;
    const message = refused(
      () => parseRolloutPolicy(bytes({ ...doc, rollouts: { t: { salt: 'short', percent: 101, steps: [{ afterHours: 5, percent: 1 }], hardwareIds: ['x'] } } })),
      'MALFORMED_METADATA',
    );
    expect(message).to.contain('rollouts.t.salt').and.contain('rollouts.t.percent').and.contain('rollouts.t.steps: expected a start time').and.contain('rollouts.t.hardwareIds');
    expect(refused(() => parseRolloutPolicy(bytes({ ...doc, rollouts: { t: { salt: SALT, percent: 1, start: '2026-03-01T00:00:00Z', steps: [{ afterHours: 5, percent: 1 }, { afterHours: 5, percent: 2 }] } } })), 'MALFORMED_METADATA')).to.contain(
      'steps[1]',
    );
    expect(refused(() => parseRolloutPolicy(new Uint8Array(300 * 1024)), 'OVERSIZED')).to.contain('at most');
  });

  describe('narrow, never widen', () => {
    it('accepts a policy for an image the targets role signs', () => {
      expect(wideningProblems(policy(), VIEW)).to.deep.equal([]);
    });

    it('refuses a rollout for a target the targets role does not list', () => {
      const p = nextRolloutPolicy(policy(), 'fw/board-a/9.9.9.bin', { kind: 'percent', percent: 1 }, { now: NOW, salt: SALT });
      expect(refused(() => assertNarrows(p, VIEW), 'ROLLOUT_WIDENS')).to.contain('"fw/board-a/9.9.9.bin": expected an image target signed by the targets role');
    });

    it('refuses a rollouts role that signs an image or delegates', () => {
      const view = { ...VIEW, rolloutRoleTargets: ['rollouts/policy.json', 'rollouts/evil.bin'], rolloutRoleDelegations: ['sub'] };
      const message = refused(() => assertNarrows(policy(), view), 'ROLLOUT_WIDENS');
      expect(message).to.contain('found "rollouts/evil.bin"').and.contain('expected no delegations, found sub');
    });
  });
});
