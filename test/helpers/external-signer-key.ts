import { generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The stand-in signer command (external-signer.ts) and the private keys it signs with.
export const EXTERNAL_SIGNER = fileURLToPath(new URL('../helpers/external-signer.js', import.meta.url));

// Writes a PKCS#8 PEM key for the stand-in signer command.
export async function signerKey(dir: string, type: 'ed25519' | 'p256'): Promise<string> {
  const { privateKey } = type === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const path = join(dir, `${type}.pem`);
  await writeFile(path, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  return path;
}

