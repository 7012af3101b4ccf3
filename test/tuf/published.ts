import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writePublished } from '../../src/repo/publish-dir.js';
import { publishedLayout } from '../../src/repo/published-layout.js';
import type { Repository } from '../../src/repo/repository.js';
import { addImage, customFor, imageOf, newRepo } from '../helpers/tuf-repo.js';

export const IMAGES = {
  'firmware/board-a/fw.bin': imageOf('fw', 20_000),
  'apps/app.bin': imageOf('app', 3000),
} as const;

// A small signed repository written to a temp dir with the publisher's own code. Signed at the real
// time because tuf-js (the online client) checks expiry against the wall clock.
export async function publishTestRepo(now = new Date()): Promise<{ repo: Repository; dir: string; publish(): Promise<void> }> {
  const { repo } = newRepo({ now });
  addImage(repo, 'firmware/board-a/fw.bin', IMAGES['firmware/board-a/fw.bin']);
  addImage(repo, 'apps/app.bin', IMAGES['apps/app.bin'], customFor({ kind: 'app' }));
  repo.sign(now);
  const dir = await mkdtemp(join(tmpdir(), 'edgeseal-repo-'));
  const bytesByName = new Map<string, Uint8Array>(Object.entries(IMAGES));
  const publish = async (): Promise<void> => {
    await writePublished(dir, publishedLayout(repo), (t) => bytesByName.get(t.name) ?? new Uint8Array());
  };
  await publish();
  return { repo, dir, publish };
}
