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
