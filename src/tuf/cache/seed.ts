import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isEdgesealError } from '../../core/errors.js';
import { METADATA_MAX_LENGTH } from '../limits.js';
import { metadataFileName, readCapped, readMetadataDir } from '../metadata-files.js';
import { loadTrustedMetadata } from '../offline/load-trusted.js';
import { trustRootChain } from '../offline/root-chain.js';
import type { TrustedMetadata, VersionFloors } from '../offline/types.js';
import type { CacheFs } from './cache-fs.js';

// What a new generation starts from (finding 3): the root chain that verifies from the TPM-pinned root,
// read from the promoted set's roots/ history, never a root.json found on disk; and, when the whole
// promoted set verifies, its other files too, so tuf-js keeps its own rollback checks (5.4.3, 5.5.5).

export interface Seed {
  readonly roots: readonly Uint8Array[]; // the pinned root first, each next one verified by the one before
  readonly trusted?: TrustedMetadata; // the promoted set, when it verifies (expiry ignored) at the floors
  readonly files: ReadonlyMap<string, Uint8Array>; // generation-relative path → bytes, roots excluded
}

const rootVersion = (bytes: Uint8Array): number => trustRootChain(bytes, []).root.signed.version;

// roots/N.root.json for N = pinned version + 1, + 2, … as long as each one verifies.
async function verifiedChain(dir: string | undefined, initialRoot: Uint8Array): Promise<Uint8Array[]> {
  const chain: Uint8Array[] = [];
  if (!dir) return chain;
  const names = new Set(await readdir(join(dir, 'roots')).catch(() => [] as string[]));
  for (let v = rootVersion(initialRoot) + 1; names.has(`${v}.root.json`); v++) {
    const next = await readCapped(join(dir, 'roots', `${v}.root.json`), METADATA_MAX_LENGTH.root).catch(() => undefined);
    if (!next) break;
    try {
      trustRootChain(initialRoot, [...chain, next]);
    } catch {
      break; // a tampered or stray root ends the chain: it is not copied
    }
    chain.push(next);
  }
  return chain;
}

// Reads the seed from the promoted generation `dir` (undefined: none yet, the pinned root alone).
export async function readSeed(dir: string | undefined, initialRoot: Uint8Array, floors: VersionFloors, now: Date, extra: (t: TrustedMetadata) => Promise<ReadonlyMap<string, Uint8Array>>): Promise<Seed> {
  const roots = [initialRoot, ...(await verifiedChain(dir, initialRoot))];
  if (!dir) return { roots, files: new Map() };
  try {
    const md = await readMetadataDir(dir, { initialRoot });
    const trusted = loadTrustedMetadata({ ...md, rootChain: roots.slice(1) }, { now, expiry: 'ignore', floors });
    const files = new Map<string, Uint8Array>([
      ['timestamp.json', md.timestamp],
      ['snapshot.json', md.snapshot],
      ['targets.json', md.targets],
    ]);
    for (const role of trusted.roles.keys()) if (role !== 'targets') files.set(metadataFileName(role, undefined), md.delegated[role]);
    for (const [path, bytes] of await extra(trusted)) files.set(path, bytes);
    return { roots, trusted, files };
  } catch (err) {
    if (isEdgesealError(err)) return { roots, files: new Map() }; // the mirror provides everything again
    throw err;
  }
}

// Writes the seed into a fresh generation: roots/N.root.json for every version, root.json the newest.
export async function writeSeed(fs: CacheFs, genDir: string, seed: Seed): Promise<void> {
  await fs.mkdir(join(genDir, 'roots'));
  for (const bytes of seed.roots) await fs.writeFile(join(genDir, 'roots', `${rootVersion(bytes)}.root.json`), bytes);
  await fs.writeFile(join(genDir, 'root.json'), seed.roots[seed.roots.length - 1]);
  for (const [path, bytes] of seed.files) {
    if (path.includes('/')) await fs.mkdir(join(genDir, path, '..'));
    await fs.writeFile(join(genDir, path), bytes);
  }
}
