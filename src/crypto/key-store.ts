import { lstat, readFile } from 'node:fs/promises';
import { EdgesealError } from '../core/errors.js';
import { writeFileAtomic } from '../store/atomic-write.js';
import type { Ed25519Key } from './ed25519.js';
import { decodeKeyFile, encodePrivateKeyFile, encodePublicKeyFile } from './key-file.js';

// Key files on disk: private files are created 0600; reads refuse symlinks and non-regular files.

export async function writePrivateKeyFile(path: string, key: Ed25519Key, passphrase?: string): Promise<void> {
  await writeFileAtomic(path, encodePrivateKeyFile(key, passphrase), 0o600);
}

export async function writePublicKeyFile(path: string, key: Ed25519Key): Promise<void> {
  await writeFileAtomic(path, encodePublicKeyFile(key), 0o644);
}

const MAX_KEY_FILE = 64 * 1024;

export async function readKeyFile(path: string, passphrase?: string): Promise<Ed25519Key> {
  let st;
  try {
    st = await lstat(path);
  } catch (err) {
    throw new EdgesealError('STORAGE_ERROR', `key file ${path}: expected a readable file, found ${(err as NodeJS.ErrnoException).code ?? 'an error'}`, { cause: err });
  }
  if (st.isSymbolicLink()) throw new EdgesealError('UNSAFE_PATH', `key file ${path}: expected a regular file, found a symlink`);
  if (!st.isFile()) throw new EdgesealError('KEY_INVALID', `key file ${path}: expected a regular file, found another file type`);
  if (st.size > MAX_KEY_FILE) throw new EdgesealError('KEY_INVALID', `key file ${path}: expected at most ${MAX_KEY_FILE} bytes, found ${st.size}`);
  try {
    return decodeKeyFile(await readFile(path, 'utf8'), passphrase);
  } catch (err) {
    if (err instanceof EdgesealError) throw new EdgesealError(err.code, `${path}: ${err.message}`, { cause: err });
    throw err;
  }
}
