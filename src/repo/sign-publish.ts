import { writePublished, type PublishReport } from './publish-dir.js';
import { publishedLayout } from './published-layout.js';
import type { Repository, SignedRole } from './repository.js';
import { blobPath, saveWorkdir } from './workdir.js';

// What `edgeseal repo publish` does after loading the keys: sign what is pending (saving the workdir
// when anything was signed), then write the published tree. `repo refresh` and the collector's
// automatic rollout halt go through here too.
export async function signAndWrite(dir: string, out: string, repo: Repository, now: Date, by: string): Promise<{ signed: SignedRole[]; report: PublishReport }> {
  const signed = repo.sign(now, by);
  if (signed.length > 0) await saveWorkdir(dir, repo);
  const report = await writePublished(out, publishedLayout(repo), (t) => blobPath(dir, t.sha256));
  return { signed, report };
}
