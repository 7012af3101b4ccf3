import { EdgesealError } from '../../core/errors.js';
import { METADATA_MAX_LENGTH, MAX_ROOT_ROTATIONS } from '../limits.js';
import { verifyThreshold, type RoleKeys } from './keys.js';
import type { Metadata, Root } from './model.js';
import { parseMetadata } from './parse.js';

export interface TrustedRoot {
  readonly root: Metadata<Root>;
  readonly keyids: readonly string[]; // keys of the final root that signed it
}

function rootRole(root: Metadata<Root>, label: string): RoleKeys {
  const role = root.signed.roles.root;
  if (!role) throw new EdgesealError('MALFORMED_METADATA', `${label}: expected a 'root' role, found none`);
  return role;
}

// Walks the root chain from the pinned initial root (TUF spec 5.2, 5.3): each next root must be
// version N+1 exactly and signed by a threshold of both the previous and its own root keys.
export function trustRootChain(initialRoot: Uint8Array, chain: readonly Uint8Array[], rootFloor = 0): TrustedRoot {
  if (chain.length > MAX_ROOT_ROTATIONS) {
    throw new EdgesealError('OVERSIZED', `root chain: expected at most ${MAX_ROOT_ROTATIONS} rotations, found ${chain.length}`);
  }
  const initial = parseMetadata('root', initialRoot, METADATA_MAX_LENGTH.root, 'initial root');
  let root = initial.md;
  // 5.2: the initial root must be signed by its own threshold (its expiry is not checked here)
  let keyids = verifyThreshold(root.signed.keys, rootRole(root, 'initial root'), 'initial root', initial);
  chain.forEach((bytes, i) => {
    const label = `root #${i + 2} in chain`;
    const parsed = parseMetadata('root', bytes, METADATA_MAX_LENGTH.root, label);
    const next = parsed.md;
    // 5.3.4: signed by a threshold of the trusted root's keys, then by its own
    verifyThreshold(root.signed.keys, rootRole(root, label), `${label} (by the previous root's keys)`, parsed);
    keyids = verifyThreshold(next.signed.keys, rootRole(next, label), `${label} (by its own keys)`, parsed);
    // 5.3.5: versions go up by exactly one, so no root can be skipped or replayed
    if (next.signed.version !== root.signed.version + 1) {
      throw new EdgesealError('ROLLBACK', `${label}: expected root version ${root.signed.version + 1}, found ${next.signed.version}`);
    }
    root = next;
  });
  if (root.signed.version < rootFloor) {
    throw new EdgesealError('ROLLBACK', `root: expected version ≥ ${rootFloor} (the device's floor), found ${root.signed.version}`);
  }
  return { root, keyids };
}
