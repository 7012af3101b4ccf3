import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EdgesealError } from '../../core/errors.js';
import type { Ed25519Key } from '../../crypto/ed25519.js';
import { readKeyFile } from '../../crypto/key-store.js';
import type { Signer } from '../../crypto/signer.js';
import { openSigner, readSignerRef } from '../../crypto/signer-ref.js';
import type { Repository } from '../../repo/repository.js';
import { loadWorkdir } from '../../repo/workdir.js';
import { haltAndPublish } from '../../rollout/publisher-workdir.js';
import { METADATA_MAX_LENGTH } from '../../tuf/limits.js';
import { readCapped } from '../../tuf/metadata-files.js';
import type { RolloutsConfig } from '../collector/config.js';

// The collector's automatic halt: the same path as `edgeseal repo rollout TARGET --halt` followed by
// `repo publish` (src/rollout/publisher-workdir.ts), signed with the online keys only: the configured
// rollouts key plus the snapshot and timestamp keys of the workdir.

export const HALT_ACTOR = 'edgeseal fleet serve (automatic halt)';

// A signer reference ("format": "edgeseal-signer/1": a PKCS#11 key or a signer command), else an
// edgeseal key file (passphrase from $EDGESEAL_PASSPHRASE); either reader names what is wrong.
export async function openRolloutKey(path: string, passphrase: string | undefined): Promise<Ed25519Key | Signer> {
  let format: unknown;
  try {
    format = (JSON.parse(await readFile(path, 'utf8')) as { format?: unknown } | null)?.format;
  } catch {
    format = undefined;
  }
  return format === 'edgeseal-signer/1' ? openSigner(await readSignerRef(path)) : readKeyFile(path, passphrase);
}

// A workdir behind the published repository would sign versions the devices already passed (they
// refuse them as a rollback, and the halt would never arrive): refuse, saying where to halt from.
async function assertNotBehind(repo: Repository, repository: string, workdir: string): Promise<void> {
  const path = join(repository, 'metadata', 'timestamp.json');
  const text = Buffer.from(await readCapped(path, METADATA_MAX_LENGTH.timestamp)).toString('utf8');
  let published: unknown;
  try {
    published = (JSON.parse(text) as { signed?: { version?: unknown } } | null)?.signed?.version;
  } catch {
    published = undefined; // unreadable: the monitor's verified read already reports it
  }
  const mine = repo.envelope('timestamp').signed.version;
  if (typeof published === 'number' && published > mine) {
    throw new EdgesealError('ROLLBACK', `rollout halt: expected ${workdir} to hold the published repository's state (timestamp v${published}), found timestamp v${mine}: point rollouts.halt.workdir at the workdir that publishes ${repository}`);
  }
}

export async function haltRollout(config: RolloutsConfig, halt: NonNullable<RolloutsConfig['halt']>, target: string, now: Date, env: NodeJS.ProcessEnv = process.env): Promise<{ policyVersion: number; signed: string[] }> {
  const passphrase = env.EDGESEAL_PASSPHRASE || undefined;
  const repo = await loadWorkdir(halt.workdir, passphrase === undefined ? {} : { passphrase });
  await assertNotBehind(repo, config.repository, halt.workdir);
  repo.addSigningKeys([await openRolloutKey(halt.key, passphrase)]);
  const { policy, signed } = await haltAndPublish(halt.workdir, config.repository, repo, target, now, HALT_ACTOR);
  return { policyVersion: policy.version, signed: signed.map((s) => `${s.role} v${s.version}`) };
}
