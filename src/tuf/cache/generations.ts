import { randomBytes } from 'node:crypto';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { EdgesealError } from '../../core/errors.js';
import type { CacheFs } from './cache-fs.js';

// The device's metadata cache (ARCHITECTURE P3, P7): <cache>/gen-<id>/ directories, each a whole set
// (roots/, root.json, timestamp, snapshot, targets, delegated roles, revocations/list.json), and
// <cache>/current, a relative symlink to the promoted one. The boot check reads only <cache>/current;
// a refresh builds a new generation beside it and swaps the link by rename(2).

export const CURRENT = 'current';
const GENERATION = /^gen-[0-9a-f]{16}$/;

// Named steps of refresh-and-promote, in order; a crash test stops the process at each of them.
export const CACHE_STEPS = ['seeded', 'fetched', 'delegated', 'revocation-list', 'verified', 'synced', 'linked', 'promoted', 'dir-synced', 'floors-raised', 'collected'] as const;
export type CacheStep = (typeof CACHE_STEPS)[number];

export interface Generation {
  readonly name: string;
  readonly dir: string;
}

export const promotedPath = (cacheDir: string): string => join(cacheDir, CURRENT);

// The generation `current` names, or undefined when nothing was promoted yet.
export async function promotedGeneration(cacheDir: string): Promise<Generation | undefined> {
  let target: string;
  try {
    target = await readlink(promotedPath(cacheDir));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new EdgesealError('STORAGE_ERROR', `${promotedPath(cacheDir)}: expected a link to a promoted generation, found ${code ?? String(err)}`, { cause: err });
  }
  if (!GENERATION.test(target)) throw new EdgesealError('UNSAFE_PATH', `${promotedPath(cacheDir)}: expected a link to gen-<id> in the same directory, found ${JSON.stringify(target)}`);
  return { name: target, dir: join(cacheDir, target) };
}

export async function newGeneration(fs: CacheFs, cacheDir: string): Promise<Generation> {
  const name = `gen-${randomBytes(8).toString('hex')}`;
  const dir = join(cacheDir, name);
  await fs.mkdir(dir);
  return { name, dir };
}

// Files first, then their directories (deepest first), then the cache dir holding the generation.
async function syncTree(fs: CacheFs, dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await syncTree(fs, path);
    else if (entry.isFile()) await fs.fsync(path);
    else throw new EdgesealError('UNSAFE_PATH', `${path}: expected only files and directories in a metadata generation`);
  }
  await fs.fsync(dir);
}

// Makes `gen` the promoted set: every file and directory fsync'd, a new link renamed over `current`
// (atomic), then the cache dir fsync'd so the swap itself is durable. Floors rise only after this returns.
export async function promote(fs: CacheFs, cacheDir: string, gen: Generation, step: (s: CacheStep) => Promise<void>): Promise<void> {
  await syncTree(fs, gen.dir);
  await fs.fsync(cacheDir);
  await step('synced');
  const link = join(cacheDir, `.current-${randomBytes(6).toString('hex')}`);
  await fs.symlink(gen.name, link);
  await step('linked');
  await fs.rename(link, promotedPath(cacheDir));
  await step('promoted');
  await fs.fsync(cacheDir);
  await step('dir-synced');
}

// Removes everything in the cache dir but `current` and the generation it names: leftovers of a
// refused, failed or killed refresh, the generations promotion replaced and (opts.legacy, once a
// generation is promoted) the loose files of the old layout.
export async function collectGenerations(fs: CacheFs, cacheDir: string, opts: { legacy?: boolean } = {}): Promise<void> {
  const keep = (await promotedGeneration(cacheDir))?.name;
  const names = await readdir(cacheDir).catch(() => [] as string[]);
  for (const name of names) {
    if (name === CURRENT || name === keep) continue;
    if (GENERATION.test(name) || name.startsWith('.current-') || (opts.legacy && keep)) await fs.remove(join(cacheDir, name));
  }
}

// True when the cache dir still has the layout of agents before generations (files directly inside).
export async function isLegacyCache(cacheDir: string): Promise<boolean> {
  const st = await lstat(join(cacheDir, 'root.json')).catch(() => undefined);
  return st !== undefined && (await promotedGeneration(cacheDir)) === undefined;
}
