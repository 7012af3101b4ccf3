import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateKey } from '../../src/crypto/ed25519.js';
import { writePrivateKeyFile } from '../../src/crypto/key-store.js';
import { openSigner, writeSignerRef, type SignerRef } from '../../src/crypto/signer-ref.js';
import { Repository } from '../../src/repo/repository.js';
import { signAndWrite } from '../../src/repo/sign-publish.js';
import { blobPath, saveWorkdir, storeKey } from '../../src/repo/workdir.js';
import type { RolloutChange } from '../../src/rollout/edit.js';
import { stageRollout } from '../../src/rollout/publisher-workdir.js';
import { sha256Hex } from '../helpers/tuf-repo.js';

export interface RolloutRepo {
  readonly workdir: string; // holds only the online snapshot and timestamp keys
  readonly published: string;
  readonly trustedRoot: string; // metadata/1.root.json
  readonly rolloutKey: string; // the online rollouts key, outside the workdir (what fleet.json names)
}

// What `repo init`, `add-target`, `rollout` and `publish` leave behind: one image for `hardwareIds` under a
// rollout, published into `dir`/pub. The offline root and targets keys are not kept.
// With `rolloutsRef` the rollouts role's key is that signer reference's (PKCS#11 or a signer command).
export async function rolloutRepo(dir: string, image: { name: string; version: string; hardwareIds: string[] }, change: RolloutChange, now: Date, rolloutsRef?: SignerRef): Promise<RolloutRepo> {
  const workdir = join(dir, 'work');
  const published = join(dir, 'pub');
  const keys = { root: [generateKey()], targets: [generateKey()], snapshot: [generateKey()], timestamp: [generateKey()] };
  for (const role of ['snapshot', 'timestamp'] as const) await storeKey(workdir, role, keys[role][0]);
  const repo = Repository.init({ keys });
  const bytes = Buffer.from(`image ${image.name}`);
  await mkdir(join(workdir, 'blobs'), { recursive: true });
  await writeFile(blobPath(workdir, sha256Hex(bytes)), bytes);
  repo.addTarget(image.name, { length: bytes.length, sha256: sha256Hex(bytes), custom: { hardwareIds: image.hardwareIds, version: image.version, securityVersion: 1, kind: 'firmware' } });
  const rollouts = generateKey();
  await stageRollout(workdir, repo, { target: image.name, change, now, salt: '5a'.repeat(16), newKeys: () => [rollouts] });
  if (rolloutsRef) repo.rotateKeys('rollouts', { add: [openSigner(rolloutsRef)], remove: [rollouts.keyid] });
  await saveWorkdir(workdir, repo);
  await signAndWrite(workdir, published, repo, now, 'test');
  const rolloutKey = join(dir, 'rollouts-key.json');
  await (rolloutsRef ? writeSignerRef(rolloutKey, rolloutsRef) : writePrivateKeyFile(rolloutKey, rollouts));
  return { workdir, published, trustedRoot: join(published, 'metadata', '1.root.json'), rolloutKey };
}
