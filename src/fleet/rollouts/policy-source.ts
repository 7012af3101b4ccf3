import { join } from 'node:path';
import { hashPrefixedPath } from '../../repo/target-path.js';
import { namedPolicy, verifiedPolicy } from '../../rollout/device.js';
import { MAX_ROLLOUT_POLICY_BYTES, ROLLOUT_TARGET_NAME, type RolloutPolicy } from '../../rollout/policy.js';
import { METADATA_MAX_LENGTH } from '../../tuf/limits.js';
import { readCapped, readMetadataDir } from '../../tuf/metadata-files.js';
import { loadTrustedMetadata } from '../../tuf/offline/load-trusted.js';
import { listTargets } from '../../tuf/offline/verify-image.js';
import type { RolloutImage } from './progress.js';

// Where the collector learns the rollout policy: a published repository directory (the publisher's
// `repo publish --out` tree, or a mirror synced from it), verified as a device verifies it: the offline
// TUF path from a pinned root, expiry enforced, then the policy's exact bytes and the narrowing rule
// (src/rollout/device.ts). No network fetch: the collector reads what the devices are served.
export interface RolloutSource {
  readonly policy: RolloutPolicy | undefined; // undefined: the repository names no rollout policy
  readonly images: readonly RolloutImage[];
  readonly snapshotVersion: number;
}

export async function readRolloutSource(repository: string, trustedRootFile: string, now: Date): Promise<RolloutSource> {
  const initialRoot = await readCapped(trustedRootFile, METADATA_MAX_LENGTH.root);
  const trusted = loadTrustedMetadata(await readMetadataDir(join(repository, 'metadata'), { initialRoot }), { now, expiry: 'enforce' });
  const images = listTargets(trusted, now).map((t) => ({ name: t.name, version: t.custom.version, hardwareIds: t.custom.hardwareIds }));
  const snapshotVersion = trusted.snapshot.signed.version;
  const info = namedPolicy(trusted, now);
  if (!info) return { policy: undefined, images, snapshotVersion };
  const bytes = await readCapped(join(repository, hashPrefixedPath(ROLLOUT_TARGET_NAME, info.sha256)), MAX_ROLLOUT_POLICY_BYTES);
  return { policy: verifiedPolicy(trusted, info, bytes, now), images, snapshotVersion };
}
