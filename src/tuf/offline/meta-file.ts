import { EdgesealError } from '../../core/errors.js';
import type { MetaFile } from './model.js';

// a built-in by process.getBuiltinModule, not import: start-up (src/cli/dispatch.ts says why)
const { createHash, getHashes } = process.getBuiltinModule('node:crypto');

// Built on first use of an algorithm other than sha256/sha512 (listing OpenSSL's digests costs ~0.6 ms
// of every verify's start-up otherwise).
let supported: Set<string> | undefined;
const isSupported = (alg: string): boolean => alg === 'sha256' || alg === 'sha512' || (supported ??= new Set(getHashes())).has(alg);

// Checks metadata bytes against the length and hashes its parent role recorded
// (TUF spec 5.5.2 snapshot against timestamp, 5.6.2 targets against snapshot), before parsing them.
export function checkMetaFile(meta: MetaFile, bytes: Uint8Array, label: string): void {
  if (meta.length !== undefined && meta.length !== bytes.length) {
    throw new EdgesealError('LENGTH_MISMATCH', `${label}: expected ${meta.length} bytes, found ${bytes.length}`);
  }
  for (const [alg, expected] of Object.entries(meta.hashes ?? {})) {
    if (!isSupported(alg)) throw new EdgesealError('MALFORMED_METADATA', `${label}: unsupported hash algorithm ${JSON.stringify(alg)}`);
    const found = createHash(alg).update(bytes).digest('hex');
    if (found !== expected.toLowerCase()) {
      throw new EdgesealError('DIGEST_MISMATCH', `${label}: expected ${alg} ${expected}, found ${found}`);
    }
  }
}
