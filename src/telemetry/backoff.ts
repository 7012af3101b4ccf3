export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 500, maxMs: 60_000 };

// Exponential backoff with "equal jitter": half the window fixed, half random, so a fleet that lost
// its broker at the same moment does not reconnect in lockstep. attempt counts from 0.
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number): number {
  const window = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(window / 2 + random() * (window / 2));
}
