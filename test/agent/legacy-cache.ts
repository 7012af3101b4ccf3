import { readdir, rename, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { agentPaths } from '../../src/agent/agent-state.js';
import { PROMOTED_LIST_PATH } from '../../src/revocation/promoted-list.js';

// Rewrites a board's metadata cache into the layout the agent before generations wrote (main at
// 9b8d3fa, src/tuf/updater.ts + src/agent/update.ts): tuf-js's metadataDir itself, <stateDir>/metadata/
// {root.json, roots/N.root.json, timestamp.json, snapshot.json, targets.json, <role>.json}, no `current`
// link, no list inside it (that agent kept the list only in revocations/cache.json). Deterministic: the
// same files the old refresh wrote, from the same published repository.
export async function toLegacyLayout(stateDir: string): Promise<void> {
  const { metadataCache, metadataDir } = agentPaths(stateDir);
  await rm(join(metadataDir, PROMOTED_LIST_PATH), { force: true });
  await rm(join(metadataDir, 'revocations'), { recursive: true, force: true });
  const gen = (await readdir(metadataCache)).find((n) => n.startsWith('gen-'))!;
  for (const name of await readdir(join(metadataCache, gen))) await rename(join(metadataCache, gen, name), join(metadataCache, name));
  await unlink(join(metadataCache, 'current'));
  await rm(join(metadataCache, gen), { recursive: true });
}
