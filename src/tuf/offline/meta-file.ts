import { createHash, getHashes } from 'node:crypto';
import { EdgesealError } from '../../core/errors.js';
import type { MetaFile } from './model.js';

const SUPPORTED_HASHES = new Set(getHashes());

// Checks metadata bytes against the length and hashes its parent role recorded
// (TUF spec 5.5.2 snapshot against timestamp, 5.6.2 targets against snapshot), before parsing them.
export function checkMetaFile(meta: MetaFile, bytes: Uint8Array, label: string): void {
  if (meta.length !== undefined && meta.length !== bytes.length) {
    throw new EdgesealError('LENGTH_MISMATCH', `${label}: expected ${meta.length} bytes, found ${bytes.length}`);
  }
  for (const [alg, expected] of Object.entries(meta.hashes ?? {})) {
    if (!SUPPORTED_HASHES.has(alg)) throw new EdgesealError('MALFORMED_METADATA', `${label}: unsupported hash algorithm ${JSON.stringify(alg)}`);
    const found = createHash(alg).update(bytes).digest('hex');
    if (found !== expected.toLowerCase()) {
      throw new EdgesealError('DIGEST_MISMATCH', `${label}: expected ${alg} ${expected}, found ${found}`);
    }
  }
}
