import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Repository } from '../src/repo/repository.js';
import type { RevocationList } from '../src/revocation/list.js';
import { delegateRevocations, nextRevocationList, setRevocationTarget, type RevocationEntry } from '../src/revocation/publish.js';
import { fixtureKey, hoursAfter, sha256Hex, T0 } from './deterministic.js';
import { FixtureRepo, targetPath, type ImageSpec } from './fixture-repo.js';
import type { FixtureCase } from './generate.js';
import { UPDATE_SCENARIO } from '../src/demo/scenario.js';

// The OTA update scenario for the agent's tests and the first-run demo (names and versions in
// src/demo/scenario.ts, which the packages ship). Metadata expires a century after T0: tuf-js checks
// expiry against the real clock.
export { UPDATE_SCENARIO };

const KiB = 1024;
const CENTURY = 100 * 365 * 86400;
const CENTURY_DAYS = 100 * 365;
const fw = (s: { target: string; version: string; securityVersion: number }, length: number): ImageSpec => ({ name: s.target, length, hardwareIds: ['board-a'], kind: 'firmware', version: s.version, securityVersion: s.securityVersion });

async function flipByte(file: string): Promise<void> {
  const bytes = await readFile(file);
  bytes[bytes.length >> 1] ^= 0x01;
  await writeFile(file, bytes);
}

export async function updateScenario(out: string, cases: FixtureCase[]): Promise<void> {
  const s = UPDATE_SCENARIO;
  const { v1, v2 } = await publishScenario(out, s, false);
  await publishScenario(out, s.demo, true);
  const at = { now: hoursAfter(T0, 12).toISOString(), expiry: 'enforce' as const, hardwareId: s.hardwareId };
  cases.push(
    { ...at, name: 'update-factory-v1', repo: s.repo, metadata: `${s.repo}/metadata`, target: s.v1.target, image: targetPath(s.repo, s.v1.target, v1), expect: 'VERIFIED', note: 'update scenario: factory image in slot A' },
    { ...at, name: 'update-good-v1.1', repo: s.repo, metadata: `${s.repo}/metadata`, target: s.v2.target, image: targetPath(s.repo, s.v2.target, v2), expect: 'VERIFIED', note: 'update scenario: the genuine v1.1.0 (securityVersion 2)' },
    { ...at, name: 'update-tampered-v1.1', repo: s.tampered, metadata: `${s.tampered}/metadata`, target: s.v2.target, image: targetPath(s.tampered, s.v2.target, v2), expect: 'DIGEST_MISMATCH', note: 'update scenario: a mirror serving altered v1.1.0 bytes under the signed name' },
  );
}

// One run of the scenario: `repo` (v1.0.0, v1.1.0), then `tampered` (targets v2 adds v1.2.0; a mirror
// altered v1.1.0's and v1.2.0's bytes). With `withList` (the demo's repos) a delegated `revocations` role
// signs a list from the start, and `revoked` is the next publish: the genuine v1.2.0, revoked by digest.
async function publishScenario(out: string, names: { repo: string; tampered: string; revoked?: string }, withList: boolean): Promise<Record<'v1' | 'v2' | 'v3', Uint8Array>> {
  const s = UPDATE_SCENARIO;
  const k = (role: string): ReturnType<typeof fixtureKey>[] => [fixtureKey(`update-${role}`)];
  const expirySeconds = { root: CENTURY, targets: CENTURY, snapshot: CENTURY, timestamp: CENTURY };
  const f = new FixtureRepo(Repository.init({ keys: { root: k('root'), targets: k('targets'), snapshot: k('snapshot'), timestamp: k('timestamp') }, expirySeconds }));
  const v1 = f.addImage(fw(s.v1, 128 * KiB));
  const v2 = f.addImage(fw(s.v2, 160 * KiB));
  let list: RevocationList | undefined;
  const revoke = (entry: RevocationEntry | undefined, at: Date): void => {
    list = nextRevocationList(list, entry, at, CENTURY_DAYS);
    const bytes = setRevocationTarget(f.repo, list);
    f.blobs.set(sha256Hex(bytes), bytes);
  };
  if (withList) {
    delegateRevocations(f.repo, k('revocations'));
    revoke(undefined, T0);
  }
  f.repo.sign(T0);
  await f.publish(out, names.repo);
  const v3 = f.addImage(fw(s.v3, 192 * KiB));
  f.repo.sign(hoursAfter(T0, 1));
  await f.publish(out, names.tampered);
  for (const [target, bytes] of [[s.v2.target, v2], [s.v3.target, v3]] as const) await flipByte(join(out, targetPath(names.tampered, target, bytes)));
  if (names.revoked) {
    revoke({ kind: 'digest', sha256: sha256Hex(v3), reason: `${s.v3.version} is a known-bad build` }, hoursAfter(T0, 2));
    f.repo.sign(hoursAfter(T0, 2));
    await f.publish(out, names.revoked);
  }
  return { v1, v2, v3 };
}
