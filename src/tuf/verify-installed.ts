import { isEdgesealError } from '../core/errors.js';
import { digestFileSync, type FileDigest } from '../io/file-digest.js';
import { findTarget, refusal, verifyImage } from './offline/verify-image.js';
import type { TrustedMetadata, Verdict } from './offline/types.js';

export interface InstalledImage {
  readonly targetName: string;
  readonly file: string;
  readonly hardwareId?: string;
  readonly now: Date;
  readonly onProgress?: (done: number, total: number) => void; // bytes hashed of the signed length
}

// Verifies an installed image file against trusted metadata: the signed length caps the read (a
// file longer than signed is refused without hashing all of it; a block device is hashed over exactly
// the signed length, as its partition is larger than the image), then the pure verifyImage decides.
export function verifyInstalledImage(trusted: TrustedMetadata, img: InstalledImage): { verdict: Verdict; observed?: FileDigest } {
  let expectedLength: number;
  try {
    expectedLength = findTarget(trusted, img.targetName, img.now).length;
  } catch (err) {
    return { verdict: refusal(err) };
  }
  let observed: FileDigest;
  try {
    // blocking reads: `edgeseal verify` does nothing else meanwhile, and they hash faster than async ones
    const { onProgress } = img;
    observed = digestFileSync(img.file, { maxLength: expectedLength, ...(onProgress ? { onProgress: (done: number) => onProgress(done, expectedLength) } : {}) });
  } catch (err) {
    if (isEdgesealError(err, 'OVERSIZED')) {
      return { verdict: { ok: false, code: 'LENGTH_MISMATCH', message: `${img.targetName}: expected ${expectedLength} bytes, found a longer file (${err.message})` } };
    }
    return { verdict: refusal(err) };
  }
  const verdict = verifyImage(trusted, { targetName: img.targetName, observed, now: img.now, ...(img.hardwareId !== undefined ? { hardwareId: img.hardwareId } : {}) });
  return { verdict, observed };
}
