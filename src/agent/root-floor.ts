import { isEdgesealError } from '../core/errors.js';
import { readMetadataDir } from '../tuf/metadata-files.js';
import { loadTrustedMetadata } from '../tuf/offline/load-trusted.js';
import { trustRootChain } from '../tuf/offline/root-chain.js';
import type { Device } from './device.js';

// P3 for metadata: the moment the device accepts a newer root through the verified chain from its
// pinned root, that version becomes the TPM root floor (TUF 5.3.5); likewise the top-level targets
// version, so an older, validly signed timestamp/snapshot/targets set restored on disk under the same
// root — and the older images it lists — is refused as ROLLBACK. Neither waits for an A/B commit.

// Versions of metadata verified from the TPM-pinned initial root; targetsVersion is absent when the
// top-level roles did not verify (nothing is raised for them; the gate and boot check refuse them).
export interface MetadataVersions {
  readonly rootVersion: number;
  readonly targetsVersion?: number;
}

// The versions the metadata cache reaches. Expiry is no part of "validly signed": a published
// targets version supersedes every older one whether or not it has expired since.
export async function cachedMetadataVersions(dev: Device): Promise<MetadataVersions> {
  const files = await readMetadataDir(dev.paths.metadataDir, { initialRoot: dev.trust.initialRoot });
  const rootVersion = trustRootChain(files.initialRoot, files.rootChain).root.signed.version;
  try {
    const trusted = loadTrustedMetadata(files, { now: dev.clock(), expiry: 'ignore' });
    return { rootVersion, targetsVersion: trusted.roles.get('targets')!.md.signed.version };
  } catch (err) {
    if (isEdgesealError(err)) return { rootVersion };
    throw err;
  }
}

// Raises the TPM root and targets version floors to verified versions; never lowers them.
export async function raiseMetadataFloors(dev: Device, verified: MetadataVersions, why: string): Promise<void> {
  const floors = await dev.trust.readFloors();
  const log = dev.logger.child({ component: 'trust' });
  const raises = [['rootVersion', verified.rootVersion], ['targetsVersion', verified.targetsVersion]] as const;
  for (const [kind, version] of raises) {
    if (version === undefined || version <= floors[kind]) continue;
    await dev.trust.raiseFloor(kind, version);
    log.info(`TPM ${kind} floor raised from ${floors[kind]} to ${version} (${why})`);
  }
}
