import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { EdgesealError } from '../core/errors.js';
import { digestFile, type FileDigest } from '../io/file-digest.js';
import { fsyncDir } from '../store/atomic-write.js';

// Copies to a temp file beside dest, checks the copy's digest against the signed one, then renames.
export async function copyVerified(src: string, dest: string, t: FileDigest & { label: string }): Promise<void> {
  const tmp = `${dest}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await copyFile(src, tmp, constants.COPYFILE_EXCL);
    const got = await digestFile(tmp);
    if (got.sha256 !== t.sha256 || got.length !== t.length) {
      throw new EdgesealError('DIGEST_MISMATCH', `${t.label}: expected sha256 ${t.sha256} (${t.length} bytes) from ${src}, found ${got.sha256} (${got.length} bytes)`);
    }
    await rename(tmp, dest);
    await fsyncDir(dirname(dest));
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    if (err instanceof EdgesealError) throw err;
    throw new EdgesealError('STORAGE_ERROR', `could not copy ${src} to ${dest}: ${(err as Error).message}`, { cause: err });
  }
}
