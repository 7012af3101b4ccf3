import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EdgesealError } from '../core/errors.js';
import { readMetadataDir } from '../tuf/metadata-files.js';
import { loadTrustedMetadata } from '../tuf/offline/load-trusted.js';
import { trustPaths } from '../trust/state-files.js';
import { heldListProblem } from './authenticate.js';
import type { RevocationStatus } from './store.js';
import { revocationTargetInfo } from './tuf-source.js';

// For read-only commands without the TPM (`revocations status`): the held list against the promoted
// metadata set, walked from the initial root provisioning stored. The agent does the same check with
// the root the TPM pin vouches for; here it tells an operator what the agent will say. Undefined when
// the state dir holds no metadata cache at all (nothing to check against).
export async function promotedListProblem(stateDir: string, status: RevocationStatus, now: Date): Promise<EdgesealError | undefined> {
  const promoted = join(stateDir, 'metadata', 'current');
  const dir = (await access(promoted).then(() => true, () => false)) ? promoted : join(stateDir, 'metadata');
  if (!(await access(join(dir, 'timestamp.json')).then(() => true, () => false))) return undefined;
  const named = await (async () => {
    const initialRoot = await readFile(trustPaths(stateDir).initialRoot);
    const trusted = loadTrustedMetadata(await readMetadataDir(dir, { initialRoot }), { now, expiry: 'ignore' });
    return () => revocationTargetInfo(trusted, now);
  })().catch((err: unknown) => () => {
    throw err;
  });
  return heldListProblem(status, named);
}
