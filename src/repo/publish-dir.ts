import { lstat, mkdir } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { EdgesealError } from '../core/errors.js';
import { digestFile } from '../io/file-digest.js';
import { writeFileAtomic } from '../store/atomic-write.js';
import { copyVerified } from './copy-verified.js';
import type { PublishedRepo, PublishedTarget } from './published-layout.js';

// Where a target's content comes from: a file path (streamed copy) or bytes in memory.
export type TargetSource = (target: PublishedTarget) => string | Uint8Array;

export interface PublishReport {
  readonly metadataFiles: number;
  readonly targetsCopied: number;
  readonly targetsUnchanged: number;
  readonly bytesCopied: number;
}

// The one unversioned file: a mirror read mid-publish must never name what is not there yet (issue 10, finding 1).
const TIMESTAMP = 'metadata/timestamp.json';

// Writes a published repository under outDir, never outside it: every path is re-checked to stay below
// outDir and no existing directory on the way may be a symlink. Files are replaced atomically (rename),
// in the order a reader needs: targets, then every versioned metadata file, timestamp.json last.
export async function writePublished(outDir: string, repo: PublishedRepo, source: TargetSource): Promise<PublishReport> {
  const root = resolve(outDir);
  await mkdir(root, { recursive: true });
  await assertRealDir(root, outDir);
  const report = await writeTargets(root, repo, source);
  const versioned = repo.metadata.filter((f) => f.path !== TIMESTAMP);
  for (const f of [...versioned, ...repo.metadata.filter((f) => f.path === TIMESTAMP)]) await writeFileAtomic(await safeFilePath(root, f.path), f.bytes);
  return { metadataFiles: repo.metadata.length, ...report };
}

async function writeTargets(root: string, repo: PublishedRepo, source: TargetSource): Promise<Omit<PublishReport, 'metadataFiles'>> {
  let copied = 0;
  let bytes = 0;
  for (const t of repo.targets) {
    const dest = await safeFilePath(root, t.path);
    if (await alreadyPublished(dest, t)) continue;
    const src = source(t);
    if (typeof src === 'string') await copyVerified(src, dest, { label: t.name, length: t.length, sha256: t.sha256 });
    else await writeFileAtomic(dest, src);
    copied++;
    bytes += t.length;
  }
  return { targetsCopied: copied, targetsUnchanged: repo.targets.length - copied, bytesCopied: bytes };
}

async function assertRealDir(path: string, shown: string): Promise<void> {
  const st = await lstat(path);
  if (st.isSymbolicLink() || !st.isDirectory()) throw new EdgesealError('UNSAFE_PATH', `${shown}: expected a directory, found a symlink or file`);
}

// Resolves rel under root, creating directories; refuses escapes and symlinked directories.
async function safeFilePath(root: string, rel: string): Promise<string> {
  const full = resolve(root, rel);
  if (!full.startsWith(root + sep) || rel.includes('\0')) throw new EdgesealError('UNSAFE_PATH', `${JSON.stringify(rel)}: expected a path inside ${root}`);
  const parts = full.slice(root.length + 1).split(sep);
  let dir = root;
  for (const part of parts.slice(0, -1)) {
    dir = join(dir, part);
    await mkdir(dir).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
    await assertRealDir(dir, dir);
  }
  const st = await lstat(full).catch(() => undefined);
  if (st && !st.isFile()) throw new EdgesealError('UNSAFE_PATH', `${full}: expected a regular file or nothing, found a symlink or another file type`);
  return full;
}

async function alreadyPublished(dest: string, t: PublishedTarget): Promise<boolean> {
  const st = await lstat(dest).catch(() => undefined);
  if (!st || st.size !== t.length) return false;
  return (await digestFile(dest)).sha256 === t.sha256;
}
