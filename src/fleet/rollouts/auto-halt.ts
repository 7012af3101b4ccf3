import { readFile } from 'node:fs/promises';
import type { Ed25519Key } from '../../crypto/ed25519.js';
import { readKeyFile } from '../../crypto/key-store.js';
import type { Signer } from '../../crypto/signer.js';
import { openSigner, readSignerRef } from '../../crypto/signer-ref.js';
import { loadWorkdir } from '../../repo/workdir.js';
import { haltAndPublish } from '../../rollout/publisher-workdir.js';
import type { RolloutsConfig } from '../collector/config.js';

// The collector's automatic halt: the same path as `edgeseal repo rollout TARGET --halt` followed by
// `repo publish` (src/rollout/publisher-workdir.ts), signed with the online keys only: the configured
// rollouts key plus the snapshot and timestamp keys of the workdir.

export const HALT_ACTOR = 'edgeseal fleet serve (automatic halt)';

// A key file (edgeseal's own format, passphrase from $EDGESEAL_PASSPHRASE) or a signer reference
// ("format": "edgeseal-signer/1": a PKCS#11 key or a signer command).
export async function openRolloutKey(path: string, passphrase: string | undefined): Promise<Ed25519Key | Signer> {
  const text = await readFile(path, 'utf8').catch(() => '');
  const isRef = text.includes('"edgeseal-signer/1"');
  return isRef ? openSigner(await readSignerRef(path)) : readKeyFile(path, passphrase);
}

export async function haltRollout(config: RolloutsConfig, halt: NonNullable<RolloutsConfig['halt']>, target: string, now: Date, env: NodeJS.ProcessEnv = process.env): Promise<{ policyVersion: number; signed: string[] }> {
  const passphrase = env.EDGESEAL_PASSPHRASE || undefined;
  const repo = await loadWorkdir(halt.workdir, passphrase === undefined ? {} : { passphrase });
  repo.addSigningKeys([await openRolloutKey(halt.key, passphrase)]);
  const { policy, signed } = await haltAndPublish(halt.workdir, config.repository, repo, target, now, HALT_ACTOR);
  return { policyVersion: policy.version, signed: signed.map((s) => `${s.role} v${s.version}`) };
}
