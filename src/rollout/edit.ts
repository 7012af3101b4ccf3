import { EdgesealError } from '../core/errors.js';
import { isPercent, ROLLOUT_POLICY_TYPE, type RolloutPolicy, type RolloutStep, type TargetRollout } from './policy.js';

// Publisher side (pure): one edit to one target's rollout gives the next policy (version + 1).

export type RolloutChange =
  | { readonly kind: 'percent'; readonly percent: number }
  | { readonly kind: 'steps'; readonly start: string; readonly steps: readonly RolloutStep[] }
  | { readonly kind: 'allow'; readonly keyids: readonly string[] }
  | { readonly kind: 'halt' }
  | { readonly kind: 'resume' };

const isoSeconds = (d: Date): string => new Date(Math.floor(d.getTime() / 1000) * 1000).toISOString().replace('.000Z', 'Z');

function without<K extends keyof TargetRollout>(r: TargetRollout, ...keys: K[]): TargetRollout {
  const copy: Partial<TargetRollout> = { ...r };
  for (const k of keys) delete copy[k];
  return copy as TargetRollout;
}

// A new rollout starts at 0 % with a fresh salt (kept for its whole life: a stable canary ring).
function applyChange(prev: TargetRollout | undefined, change: RolloutChange, salt: string): TargetRollout {
  const r = prev ?? { salt, percent: 0 };
  switch (change.kind) {
    case 'percent':
      if (!isPercent(change.percent)) throw new EdgesealError('USAGE', `rollout: expected a percentage 0–100 with at most two decimals, found ${change.percent}`);
      // an explicit percentage replaces any schedule, from now on
      return { ...without(r, 'start', 'steps'), percent: change.percent };
    case 'steps':
      return { ...r, start: change.start, steps: change.steps, percent: change.steps[change.steps.length - 1].percent };
    case 'allow':
      return change.keyids.length ? { ...r, allow: [...new Set(change.keyids)] } : without(r, 'allow');
    case 'halt':
      return { ...r, halted: true };
    case 'resume':
      if (!prev?.halted) throw new EdgesealError('USAGE', 'rollout: expected a halted rollout to resume, found it running');
      return without(r, 'halted');
  }
}

export function nextRolloutPolicy(prev: RolloutPolicy | undefined, target: string, change: RolloutChange, opts: { now: Date; salt: string }): RolloutPolicy {
  if (change.kind === 'resume' && !prev?.rollouts[target]) throw new EdgesealError('USAGE', `rollout: expected a rollout for ${target} to resume, found none`);
  return {
    _type: ROLLOUT_POLICY_TYPE,
    version: (prev?.version ?? 0) + 1,
    issued: isoSeconds(opts.now),
    rollouts: { ...prev?.rollouts, [target]: applyChange(prev?.rollouts[target], change, opts.salt) },
  };
}
