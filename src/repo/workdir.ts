import { lstat, mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EdgesealError } from '../core/errors.js';
import type { Ed25519Key } from '../crypto/ed25519.js';
import { readKeyFile, writePrivateKeyFile } from '../crypto/key-store.js';
import type { Signer } from '../crypto/signer.js';
import { openSigner, readSignerRef, writeSignerRef, type SignerRef } from '../crypto/signer-ref.js';
import { digestFile, type FileDigest } from '../io/file-digest.js';
import { writeFileAtomic } from '../store/atomic-write.js';
import { copyVerified } from './copy-verified.js';
import { Repository } from './repository.js';

// The publisher's working directory (outside the published dir):
//   repo.json            working state (no secrets)
//   keys/<label>-<keyid16>.json   private keys, mode 0600, optionally passphrase-encrypted
//   signers/<label>-<keyid16>.json   references to keys held elsewhere (PKCS#11 token, signer command)
//   blobs/<sha256>       content of every target added, so publish can copy it later

const STATE = 'repo.json';
const MAX_STATE = 64 * 1024 * 1024;

export async function workdirExists(dir: string): Promise<boolean> {
  return (await lstat(join(dir, STATE)).catch(() => undefined)) !== undefined;
}

// Loads the state and, unless keys is false, every private key in keys/ (encrypted ones need passphrase)
// and every signer referenced in signers/ (nothing is contacted until something is signed).
export async function loadWorkdir(dir: string, opts: { keys?: boolean; passphrase?: string } = {}): Promise<Repository> {
  const path = join(dir, STATE);
  const st = await lstat(path).catch(() => undefined);
  if (!st) throw new EdgesealError('USAGE', `${dir}: expected a publisher workdir (${STATE}), found none (run 'edgeseal repo init --dir ${dir}')`);
  if (!st.isFile()) throw new EdgesealError('UNSAFE_PATH', `${path}: expected a regular file, found a symlink or another file type`);
  if (st.size > MAX_STATE) throw new EdgesealError('OVERSIZED', `${path}: expected at most ${MAX_STATE} bytes, found ${st.size}`);
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new EdgesealError('MALFORMED_METADATA', `${path}: expected JSON, found a parse error (${(err as Error).message})`, { cause: err });
  }
  const keys = opts.keys === false ? [] : await readKeys(dir, opts.passphrase);
  return Repository.fromState(json, keys);
}

async function readKeys(dir: string, passphrase: string | undefined): Promise<(Ed25519Key | Signer)[]> {
  const keys: (Ed25519Key | Signer)[] = [];
  for (const name of await jsonFiles(dir, 'keys')) keys.push(await readKeyFile(join(dir, 'keys', name), passphrase));
  for (const name of await jsonFiles(dir, 'signers')) keys.push(openSigner(await readSignerRef(join(dir, 'signers', name))));
  return keys;
}

async function jsonFiles(dir: string, sub: string): Promise<string[]> {
  const names = await readdir(join(dir, sub)).catch(() => [] as string[]);
  return names.filter((n) => n.endsWith('.json')).sort();
}

export async function saveWorkdir(dir: string, repo: Repository): Promise<void> {
  await writeFileAtomic(join(dir, STATE), `${JSON.stringify(repo.toState(), null, 1)}\n`);
}

// Stores a new private key as keys/<label>-<keyid16>.json (0600); returns that path.
export async function storeKey(dir: string, label: string, key: Ed25519Key, passphrase?: string): Promise<string> {
  const path = join(dir, 'keys', `${label}-${key.keyid.slice(0, 16)}.json`);
  await writePrivateKeyFile(path, key, passphrase);
  return path;
}

// Stores a signer reference as signers/<label>-<keyid16>.json; returns that path.
export async function storeSignerRef(dir: string, label: string, ref: SignerRef): Promise<string> {
  const path = join(dir, 'signers', `${label}-${ref.keyid.slice(0, 16)}.json`);
  await writeSignerRef(path, ref);
  return path;
}

// Streams a target file's digest (refusing symlinks and non-regular files), then copies it into blobs/.
export async function storeBlob(dir: string, file: string): Promise<FileDigest> {
  const st = await lstat(file).catch((err: NodeJS.ErrnoException) => {
    throw new EdgesealError('STORAGE_ERROR', `${file}: expected a readable file, found ${err.code ?? 'an error'}`, { cause: err });
  });
  if (st.isSymbolicLink()) throw new EdgesealError('UNSAFE_PATH', `${file}: expected a regular file, found a symlink`);
  if (!st.isFile()) throw new EdgesealError('UNSAFE_PATH', `${file}: expected a regular file, found another file type`);
  const digest = await digestFile(file);
  const dest = blobPath(dir, digest.sha256);
  if (!(await lstat(dest).catch(() => undefined))) {
    await mkdir(join(dir, 'blobs'), { recursive: true });
    await copyVerified(file, dest, { label: file, ...digest });
  }
  return digest;
}

export function blobPath(dir: string, sha256: string): string {
  return join(dir, 'blobs', sha256);
}
