import { percentAt } from './decide.js';
import type { TargetRollout } from './policy.js';

// One line for operators: what the rollout does at `now`.
export function decideRolloutSummary(r: TargetRollout, now: Date): string {
  const parts = [r.halted ? 'HALTED' : `${percentAt(r, now)} % now`];
  if (r.steps && r.start) parts.push(`steps from ${r.start}: ${r.steps.map((s) => `${s.percent} % @ +${s.afterHours}h`).join(', ')}`);
  if (r.allow?.length) parts.push(`canary ring of ${r.allow.length}`);
  parts.push(`salt ${r.salt.slice(0, 8)}…`);
  return parts.join('; ');
}
