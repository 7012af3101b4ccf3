import { join } from 'node:path';
import { namedPolicy, rolloutGate, type RolloutGate } from '../rollout/device.js';
import { MAX_ROLLOUT_POLICY_BYTES, ROLLOUT_TARGET_NAME } from '../rollout/policy.js';
import { readCapped } from '../tuf/metadata-files.js';
import type { Device } from './device.js';
import type { PromotedSet } from './metadata-refresh.js';

// Fetches the rollout policy the freshly promoted metadata names (through tuf-js, which checks the
// signed length and hashes) and turns it into the gate's rollout step for this device's report key.
// Fetched at every update check: a halt reaches the device at its next refresh, nothing is cached.
export async function loadRolloutGate(dev: Device, set: PromotedSet, now: Date): Promise<RolloutGate | undefined> {
  if (!namedPolicy(set.trusted, now)) return undefined;
  const { path } = await set.updater.download(ROLLOUT_TARGET_NAME, join(dev.paths.staging, 'rollouts'));
  const bytes = await readCapped(path, MAX_ROLLOUT_POLICY_BYTES);
  return rolloutGate(set.trusted, bytes, dev.trust.identity.reportPublicKey, now);
}
