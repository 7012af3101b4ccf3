import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CACHE_FILE } from '../revocation/cache.js';
import { namedList, PROMOTED_LIST_PATH } from '../revocation/promoted-list.js';
import { nodeCacheFs, type CacheFs } from '../tuf/cache/cache-fs.js';
import { collectGenerations, isLegacyCache, newGeneration, promote } from '../tuf/cache/generations.js';
import { readSeed, writeSeed } from '../tuf/cache/seed.js';
import type { Floors } from '../trust/floors.js';

// Devices provisioned before generations (issue 10 H): their cache is tuf-js's metadata dir itself,
// <stateDir>/metadata/{root.json,roots/,timestamp.json,…}, with the list in revocations/cache.json.
// On the first start of this agent, before any refresh, what of it verifies from the TPM-pinned root
// (at the TPM floors) becomes the first promoted generation; the loose files are removed after.

export interface MigrationInput {
  readonly cacheDir: string;
  readonly stateDir: string;
  readonly initialRoot: Uint8Array;
  readonly floors: Floors;
  readonly now: Date;
  readonly fs?: CacheFs;
}

// The list bytes the old revocation cache holds (its own self-hash is not trusted: the seed keeps
// them only when the verified metadata names exactly these bytes).
async function legacyList(stateDir: string): Promise<Uint8Array | undefined> {
  try {
    const doc = JSON.parse(await readFile(join(stateDir, CACHE_FILE), 'utf8')) as { list?: { base64?: unknown } };
    return typeof doc.list?.base64 === 'string' ? Buffer.from(doc.list.base64, 'base64') : undefined;
  } catch {
    return undefined;
  }
}

// Returns true when a legacy cache was migrated; a no-op on the promoted layout or an empty cache.
export async function migrateLegacyCache(input: MigrationInput): Promise<boolean> {
  const fs = input.fs ?? nodeCacheFs;
  if (!(await isLegacyCache(input.cacheDir))) return false;
  const floors = { rootVersion: input.floors.rootVersion, targetsVersion: input.floors.targetsVersion };
  const list = await legacyList(input.stateDir);
  const seed = await readSeed(input.cacheDir, input.initialRoot, floors, input.now, (trusted) => {
    const info = namedList(trusted, input.now);
    return Promise.resolve(new Map(info && list ? [[PROMOTED_LIST_PATH, list]] : []));
  });
  await collectGenerations(fs, input.cacheDir);
  const gen = await newGeneration(fs, input.cacheDir);
  try {
    await writeSeed(fs, gen.dir, seed);
    await promote(fs, input.cacheDir, gen, () => Promise.resolve());
  } catch (err) {
    await fs.remove(gen.dir).catch(() => undefined);
    throw err;
  }
  await collectGenerations(fs, input.cacheDir, { legacy: true });
  return true;
}
