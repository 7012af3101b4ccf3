import { lstat, readFile } from 'node:fs/promises';
import { EdgesealError } from '../core/errors.js';
import { writeFileAtomic } from '../store/atomic-write.js';
import { commandSigner, type CommandRef } from './command-signer.js';
import { pkcs11Signer, type Pkcs11Ref } from './pkcs11-signer.js';
import { parseSecretSource } from './secret-source.js';
import type { Signer } from './signer.js';
import { parseTufKey, tufKeyId, type TufKey } from './tuf-key.js';

// A signer reference file: where a private key lives and its public key, never the key or a PIN.
//   {"format":"edgeseal-signer/1","keyid":…,"publicKey":{TUF key},"signer":{"kind":"pkcs11"|"command",…}}
export interface SignerRef {
  readonly format: 'edgeseal-signer/1';
  readonly keyid: string;
  readonly publicKey: TufKey;
  readonly signer: Pkcs11Ref | CommandRef;
}

export function makeSignerRef(signer: Pkcs11Ref | CommandRef, publicKey: TufKey): SignerRef {
  return { format: 'edgeseal-signer/1', keyid: tufKeyId(publicKey), publicKey, signer };
}

function bad(what: string, found: unknown): EdgesealError {
  return new EdgesealError('KEY_INVALID', `signer reference: expected ${what}, found ${JSON.stringify(found)?.slice(0, 80)}`);
}

const positive = (n: unknown): boolean => n === undefined || (Number.isSafeInteger(n) && (n as number) > 0);

function parseKind(s: Record<string, unknown>): Pkcs11Ref | CommandRef {
  if (!positive(s.timeoutSeconds)) throw bad('timeoutSeconds a positive integer', s.timeoutSeconds);
  const timeout = s.timeoutSeconds === undefined ? {} : { timeoutSeconds: s.timeoutSeconds as number };
  if (s.kind === 'command') {
    if (!Array.isArray(s.argv) || s.argv.length === 0 || !s.argv.every((a) => typeof a === 'string')) throw bad('argv as a non-empty list of strings', s.argv);
    return { kind: 'command', argv: [...(s.argv)], ...timeout };
  }
  if (s.kind === 'pkcs11') {
    for (const f of ['module', 'token'] as const) if (typeof s[f] !== 'string' || s[f] === '') throw bad(`${f} as a string`, s[f]);
    if (typeof s.keyId !== 'string' || !/^([0-9a-f]{2})+$/.test(s.keyId)) throw bad('keyId as lowercase hex', s.keyId);
    if (s.keyLabel !== undefined && typeof s.keyLabel !== 'string') throw bad('keyLabel a string', s.keyLabel);
    return {
      kind: 'pkcs11',
      module: s.module as string,
      token: s.token as string,
      keyId: s.keyId,
      ...(s.keyLabel !== undefined ? { keyLabel: s.keyLabel } : {}),
      pin: parseSecretSource(s.pin, 'signer reference pin'),
      ...timeout,
    };
  }
  throw bad('signer kind pkcs11 or command', s.kind);
}

export function parseSignerRef(json: unknown): SignerRef {
  const o = json as Partial<Record<keyof SignerRef, unknown>> | null;
  if (!o || typeof o !== 'object' || o.format !== 'edgeseal-signer/1') throw bad('format "edgeseal-signer/1"', o?.format);
  const publicKey = parseTufKey(o.publicKey);
  if (o.keyid !== tufKeyId(publicKey)) throw bad(`keyid ${tufKeyId(publicKey)} (derived from the public key)`, o.keyid);
  if (!o.signer || typeof o.signer !== 'object') throw bad('a signer object', o.signer);
  return makeSignerRef(parseKind(o.signer as Record<string, unknown>), publicKey);
}

export function openSigner(ref: SignerRef): Signer {
  return ref.signer.kind === 'pkcs11' ? pkcs11Signer(ref.signer, ref.publicKey) : commandSigner(ref.signer, ref.publicKey);
}

export async function writeSignerRef(path: string, ref: SignerRef): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(ref, null, 2)}\n`, 0o644);
}

export async function readSignerRef(path: string): Promise<SignerRef> {
  const st = await lstat(path).catch((err: NodeJS.ErrnoException) => {
    throw new EdgesealError('STORAGE_ERROR', `signer reference ${path}: expected a readable file, found ${err.code ?? 'an error'}`, { cause: err });
  });
  if (!st.isFile()) throw new EdgesealError('UNSAFE_PATH', `signer reference ${path}: expected a regular file, found a symlink or another file type`);
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new EdgesealError('KEY_INVALID', `signer reference ${path}: expected JSON, found a parse error`, { cause: err });
  }
  try {
    return parseSignerRef(json);
  } catch (err) {
    if (err instanceof EdgesealError) throw new EdgesealError(err.code, `${path}: ${err.message}`, { cause: err });
    throw err;
  }
}
