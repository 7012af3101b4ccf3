import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EdgesealError } from '../core/errors.js';

// Where a secret (an HSM PIN) comes from: an environment variable, a file, or a systemd credential
// (LoadCredential=NAME:… puts it in $CREDENTIALS_DIRECTORY/NAME). Never argv, where `ps` shows it.
export type SecretSource = { readonly env: string } | { readonly file: string } | { readonly credential: string };

export function parseSecretSource(json: unknown, what: string): SecretSource {
  const o = json as Record<string, unknown> | null;
  const keys = o && typeof o === 'object' ? Object.keys(o) : [];
  const [k] = keys;
  if (keys.length === 1 && (k === 'env' || k === 'file' || k === 'credential') && typeof o?.[k] === 'string' && o[k] !== '') {
    return { [k]: o[k] } as SecretSource;
  }
  throw new EdgesealError('KEY_INVALID', `${what}: expected exactly one of {env}, {file}, {credential} naming where it is, found ${JSON.stringify(json)?.slice(0, 80)}`);
}

export function describeSecretSource(s: SecretSource): string {
  if ('env' in s) return `$${s.env}`;
  if ('file' in s) return `file ${s.file}`;
  return `credential ${s.credential}`;
}

// Reads the secret at use time (so a rotated PIN file needs no re-registration); one trailing newline is dropped.
export function readSecret(s: SecretSource, what: string): string {
  let value: string | undefined;
  if ('env' in s) {
    value = process.env[s.env];
  } else {
    const dir = process.env.CREDENTIALS_DIRECTORY;
    if ('credential' in s && !dir) throw new EdgesealError('PASSPHRASE_REQUIRED', `${what}: expected $CREDENTIALS_DIRECTORY (systemd LoadCredential=${s.credential}:…), found it unset`);
    const path = 'file' in s ? s.file : join(dir ?? '', s.credential);
    try {
      value = readFileSync(path, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new EdgesealError('PASSPHRASE_REQUIRED', `${what}: expected a readable ${describeSecretSource(s)} (${path}), found ${(err as NodeJS.ErrnoException).code ?? 'an error'}`, { cause: err });
    }
  }
  if (!value) throw new EdgesealError('PASSPHRASE_REQUIRED', `${what}: expected a value in ${describeSecretSource(s)}, found none`);
  return value;
}
