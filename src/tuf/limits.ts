// Size caps for every metadata file, shared by the online updater and the offline verifier so that
// both refuse the same oversized input before parsing it (tuf-js defaults, TUF spec 5.3.3 / 5.4.1).
export const METADATA_MAX_LENGTH = {
  root: 512_000,
  timestamp: 16_384,
  snapshot: 2_000_000,
  targets: 5_000_000,
} as const;

// How many root versions one refresh may walk, and how many delegated roles one lookup may visit.
export const MAX_ROOT_ROTATIONS = 256;
export const MAX_DELEGATIONS = 32;
