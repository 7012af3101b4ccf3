import { EdgesealError } from '../../core/errors.js';
import { own } from '../../core/own.js';
import type { Key } from './model.js';
import type { ParsedMetadata } from './parse.js';
import { publicKeyFor } from './public-key.js';

// a built-in by process.getBuiltinModule, not import: start-up (src/cli/dispatch.ts says why)
const { verify } = process.getBuiltinModule('node:crypto');

// Key types and schemes public-key.ts can verify (those @tufjs/models can); anything else in trusted metadata is refused
// up front instead of silently never counting toward a threshold.
const SCHEMES: Readonly<Record<string, readonly string[]>> = {
  ed25519: ['ed25519'],
  ecdsa: ['ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  rsa: ['rsassa-pss-sha256', 'rsassa-pss-sha384', 'rsassa-pss-sha512'],
};
const PEM = '-----BEGIN PUBLIC KEY-----';

export function assertSupportedKeys(keys: Readonly<Record<string, Key>>, label: string): void {
  for (const [keyid, key] of Object.entries(keys)) {
    const schemes = own(SCHEMES, key.keyType);
    if (!schemes) throw new EdgesealError('MALFORMED_METADATA', `${label}: key ${keyid}: expected a key type of ${Object.keys(SCHEMES).join('|')}, found ${JSON.stringify(key.keyType)}`);
    if (!schemes.includes(key.scheme)) {
      throw new EdgesealError('MALFORMED_METADATA', `${label}: key ${keyid}: expected scheme ${schemes.join('|')} for ${key.keyType}, found ${JSON.stringify(key.scheme)}`);
    }
    const pub = key.keyVal.public;
    const ok = typeof pub === 'string' && (pub.startsWith(PEM) || (key.keyType === 'ed25519' ? /^[0-9a-fA-F]{64}$/.test(pub) : /^[0-9a-fA-F]+$/.test(pub)));
    if (!ok) throw new EdgesealError('MALFORMED_METADATA', `${label}: key ${keyid}: expected a hex or PEM public key, found ${JSON.stringify(pub)}`);
  }
}

export interface RoleKeys {
  readonly keyIDs: readonly string[];
  readonly threshold: number;
}

// Counts valid signatures by distinct public keys (TUF spec 5.4.2 and friends), so that one key
// listed under two key ids — or signing twice — cannot be counted twice toward the threshold.
// Returns the key ids whose signatures counted.
export function verifyThreshold(
  keys: Readonly<Record<string, Key>>,
  role: RoleKeys,
  roleName: string,
  parsed: ParsedMetadata,
): string[] {
  const seen = new Set<string>();
  const counted: string[] = [];
  for (const keyid of role.keyIDs) {
    const key = own(keys, keyid);
    if (!key) continue;
    const identity = `${key.keyType}:${(key.keyVal.public ?? '').toLowerCase()}`;
    if (seen.has(identity)) continue;
    // a missing or bad signature simply does not count
    if (!signatureValid(key, own(parsed.md.signatures, keyid)?.sig, parsed.signedBytes)) continue;
    seen.add(identity);
    counted.push(keyid);
  }
  if (counted.length < role.threshold) {
    throw new EdgesealError('SIGNATURE_THRESHOLD', `${roleName}: expected valid signatures from ${role.threshold} distinct key(s), found ${counted.length}`);
  }
  return counted;
}

// Key.verifySignature of @tufjs/models, over bytes canonicalised once.
function signatureValid(key: Key, sig: string | undefined, signedBytes: Buffer): boolean {
  const pub = key.keyVal.public;
  if (sig === undefined || !pub) return false;
  try {
    const publicKey = publicKeyFor({ keyType: key.keyType, scheme: key.scheme, keyVal: pub });
    return verify(publicKey.hashAlgorithm, signedBytes, publicKey.key, Buffer.from(sig, 'hex'));
  } catch {
    return false;
  }
}
