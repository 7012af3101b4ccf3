import { readMetadataDir } from '../tuf/metadata-files.js';
import { trustRootChain } from '../tuf/offline/root-chain.js';
import type { Device } from './device.js';

// P3 for roots: the moment the device accepts a newer root through the verified chain from its pinned
// root, that version becomes the TPM floor, so restoring an older (validly signed) chain on disk is
// refused as ROLLBACK (TUF 5.3.5). Root rotation is independent of image installs: no A/B commit waits.

// The version the metadata cache's root chain reaches, verified from the TPM-pinned initial root.
export async function cachedRootVersion(dev: Device): Promise<number> {
  const files = await readMetadataDir(dev.paths.metadataDir, { initialRoot: dev.trust.initialRoot });
  return trustRootChain(files.initialRoot, files.rootChain).root.signed.version;
}

// Raises the TPM root-version floor to `trusted` (a verified chain's version); never lowers it.
export async function raiseRootFloor(dev: Device, trusted: number, why: string): Promise<void> {
  const { rootVersion } = await dev.trust.readFloors();
  if (trusted <= rootVersion) return;
  await dev.trust.raiseFloor('rootVersion', trusted);
  dev.logger.child({ component: 'trust' }).info(`TPM root version floor raised from ${rootVersion} to ${trusted} (${why})`);
}
