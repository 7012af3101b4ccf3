import { trustDelegations, trustDelegationsFor } from './delegations.js';
import { trustRootChain } from './root-chain.js';
import { checkExpiry, checkFloor, topRole, trustSnapshot, trustTargetsRole, trustTimestamp } from './top-level.js';
import type { LoadOptions, MetadataFiles, TrustedMetadata } from './types.js';

// The offline trust pipeline (TUF client workflow 5.2–5.6 without a network): pure and synchronous,
// `now` and the expiry policy are explicit inputs. Throws an EdgesealError with the first failed rule.
export function loadTrustedMetadata(files: MetadataFiles, opts: LoadOptions): TrustedMetadata {
  const { now, expiry, floors = {} } = opts;
  const { root } = trustRootChain(files.initialRoot, files.rootChain, floors.rootVersion);
  checkExpiry(root, 'root', now, expiry); // 5.3.10: the final root must be fresh

  const timestamp = trustTimestamp(root, files.timestamp);
  checkFloor(timestamp.signed.version, floors.timestampVersion, 'timestamp'); // 5.4.3 rollback
  checkFloor(timestamp.signed.snapshotMeta.version, floors.snapshotVersion, 'snapshot named by timestamp');
  checkExpiry(timestamp, 'timestamp', now, expiry); // 5.4.4 freeze

  const snapshot = trustSnapshot(root, timestamp, files.snapshot);
  checkFloor(snapshot.signed.version, floors.snapshotVersion, 'snapshot');
  checkExpiry(snapshot, 'snapshot', now, expiry); // 5.5.6 freeze

  const targets = trustTargetsRole(snapshot, 'targets', files.targets, root.signed.keys, topRole(root, 'targets'));
  checkFloor(targets.md.signed.version, floors.targetsVersion, 'targets');
  checkExpiry(targets.md, 'targets', now, expiry); // 5.6.5 freeze

  const { roles, rejected } = opts.target === undefined ? trustDelegations(snapshot, targets, files.delegated) : trustDelegationsFor(snapshot, targets, files.delegated, opts.target);
  return { root, timestamp, snapshot, roles, rejected, expiry, checkedAt: now };
}
