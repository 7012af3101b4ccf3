import { createHash } from 'node:crypto';
import { EdgesealError } from '../core/errors.js';

// The secret sealed to the PCR policy (ARCHITECTURE P1). TPM sealed data is at most 128 bytes,
// so it holds digests and seeds, never files: version ‖ sha256(initial root.json) ‖ ed25519 seed.
export const ANCHOR_SECRET_VERSION = 1;
export const ANCHOR_SECRET_LENGTH = 1 + 32 + 32;

export interface AnchorSecret {
  readonly initialRootDigest: Uint8Array; // sha256 of the exact initial root.json bytes
  readonly reportSeed: Uint8Array; // 32-byte ed25519 seed for signing telemetry
}

export function sha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest());
}

export function encodeAnchorSecret(secret: AnchorSecret): Uint8Array {
  if (secret.initialRootDigest.length !== 32) {
    throw new EdgesealError('INTERNAL', `anchor secret: expected a 32-byte root digest, found ${secret.initialRootDigest.length} bytes`);
  }
  if (secret.reportSeed.length !== 32) {
    throw new EdgesealError('INTERNAL', `anchor secret: expected a 32-byte report seed, found ${secret.reportSeed.length} bytes`);
  }
  const out = new Uint8Array(ANCHOR_SECRET_LENGTH);
  out[0] = ANCHOR_SECRET_VERSION;
  out.set(secret.initialRootDigest, 1);
  out.set(secret.reportSeed, 33);
  return out;
}

// Parses unsealed bytes; anything but the exact v1 layout means the blob is not one of ours.
export function decodeAnchorSecret(bytes: Uint8Array): AnchorSecret {
  if (bytes.length !== ANCHOR_SECRET_LENGTH) {
    throw new EdgesealError('ANCHOR_MISMATCH', `unsealed anchor secret: expected ${ANCHOR_SECRET_LENGTH} bytes, found ${bytes.length}`);
  }
  if (bytes[0] !== ANCHOR_SECRET_VERSION) {
    throw new EdgesealError('ANCHOR_MISMATCH', `unsealed anchor secret: expected format version ${ANCHOR_SECRET_VERSION}, found ${bytes[0]}`);
  }
  return { initialRootDigest: bytes.slice(1, 33), reportSeed: bytes.slice(33, 65) };
}
