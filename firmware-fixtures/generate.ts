import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { fixtureKey, hoursAfter, sha256Hex, T0 } from './deterministic.js';
import { FixtureRepo, rewriteMetadata, targetPath, type ImageSpec } from './fixture-repo.js';
import { updateScenario } from './update-scenario.js';

// Generates firmware-fixtures/out/: TUF repositories, installed-image files and manifest.json
// (see README.md). Deterministic: fixed key seeds, fixed dates, seeded image bytes.

export interface FixtureCase {
  name: string;
  repo: string;
  metadata: string;
  target: string;
  image: string;
  hardwareId: string;
  now: string;
  expiry: 'enforce' | 'ignore';
  expect: string; // 'VERIFIED' or an ErrorCode
  note: string;
  floors?: { rootVersion?: number; timestampVersion?: number; snapshotVersion?: number; targetsVersion?: number };
  trustedMetadata?: string; // for rollback: the newer metadata the device already trusts
}

const KiB = 1024;
const HARDWARE_IDS = ['board-a', 'board-b'];
const NOW = hoursAfter(T0, 12).toISOString();
const BOTH = HARDWARE_IDS;

const img = (name: string, length: number, hardwareIds: readonly string[], kind: ImageSpec['kind'], version = '1.0.0', securityVersion = 1): ImageSpec => ({
  name,
  length,
  hardwareIds,
  kind,
  version,
  securityVersion,
});

function caseOf(c: Omit<FixtureCase, 'metadata' | 'now' | 'expiry'> & Partial<FixtureCase>): FixtureCase {
  return { metadata: `${c.repo}/metadata`, now: NOW, expiry: 'enforce', ...c };
}

async function mainRepo(out: string, cases: FixtureCase[]): Promise<void> {
  const f = FixtureRepo.create('main');
  f.repo.delegate({ name: 'builder', paths: ['apps/builder/*'], keys: [fixtureKey('main-builder')] });
  f.addImage(img('fw/board-a/firmware.bin', 1024 * KiB, ['board-a'], 'firmware', '2.4.1', 7));
  const fwB = f.addImage(img('fw/board-b/firmware.bin', 256 * KiB, ['board-b'], 'firmware', '2.4.1', 7));
  const os = f.addImage(img('os/board-a/rootfs.img', 512 * KiB, ['board-a'], 'os', '12.1.0', 3));
  f.addImage(img('apps/agent.tar', 16 * KiB, BOTH, 'app', '0.9.2', 1));
  f.addImage({ ...img('apps/builder/telemetry.tar', 8 * KiB, BOTH, 'app', '1.0.0-rc.1', 0), role: 'builder' });
  f.repo.sign(T0);
  const paths = await f.publish(out, 'repos/main');
  const repo = 'repos/main';
  const at = (name: string): string => paths.get(name)!;
  cases.push(
    caseOf({ name: 'good-fw-board-a', repo, target: 'fw/board-a/firmware.bin', image: at('fw/board-a/firmware.bin'), hardwareId: 'board-a', expect: 'VERIFIED', note: '1 MiB firmware for board-a' }),
    caseOf({ name: 'good-fw-board-b', repo, target: 'fw/board-b/firmware.bin', image: at('fw/board-b/firmware.bin'), hardwareId: 'board-b', expect: 'VERIFIED', note: '256 KiB firmware for board-b' }),
    caseOf({ name: 'good-os-board-a', repo, target: 'os/board-a/rootfs.img', image: at('os/board-a/rootfs.img'), hardwareId: 'board-a', expect: 'VERIFIED', note: '512 KiB OS image (kind os)' }),
    caseOf({ name: 'good-app-board-b', repo, target: 'apps/agent.tar', image: at('apps/agent.tar'), hardwareId: 'board-b', expect: 'VERIFIED', note: 'app for both boards, checked on board-b' }),
    caseOf({ name: 'good-delegated-app', repo, target: 'apps/builder/telemetry.tar', image: at('apps/builder/telemetry.tar'), hardwareId: 'board-a', expect: 'VERIFIED', note: 'signed by the delegated builder role inside its paths (apps/builder/*)' }),
    caseOf({ name: 'wrong-hardware-id', repo, target: 'fw/board-a/firmware.bin', image: at('fw/board-a/firmware.bin'), hardwareId: 'board-b', expect: 'HARDWARE_MISMATCH', note: 'board-a firmware on a board-b device' }),
    caseOf({ name: 'unknown-target', repo, target: 'fw/board-c/firmware.bin', image: at('fw/board-a/firmware.bin'), hardwareId: 'board-a', expect: 'UNKNOWN_TARGET', note: 'no role lists this target name' }),
    caseOf({ name: 'expired-timestamp', repo, target: 'fw/board-a/firmware.bin', image: at('fw/board-a/firmware.bin'), hardwareId: 'board-a', now: hoursAfter(T0, 48).toISOString(), expect: 'EXPIRED', note: 'timestamp (1 day) expired, snapshot (7 days) and targets still valid; expiry policy enforce' }),
  );
  // Installed images that do not match what was signed.
  const tampered = Buffer.from(fwB);
  tampered[tampered.length >> 1] ^= 0x01;
  const truncated = os.subarray(0, 100 * KiB);
  await mkdir(join(out, 'images'), { recursive: true });
  await writeFile(join(out, 'images/tampered-fw-board-b.bin'), tampered);
  await writeFile(join(out, 'images/truncated-rootfs-board-a.img'), truncated);
  cases.push(
    caseOf({ name: 'tampered-image', repo, target: 'fw/board-b/firmware.bin', image: 'images/tampered-fw-board-b.bin', hardwareId: 'board-b', expect: 'DIGEST_MISMATCH', note: 'one bit flipped in the middle; same length' }),
    caseOf({ name: 'truncated-image', repo, target: 'os/board-a/rootfs.img', image: 'images/truncated-rootfs-board-a.img', hardwareId: 'board-a', expect: 'LENGTH_MISMATCH', note: 'first 100 KiB of a 512 KiB image' }),
  );
}

async function rollbackRepos(out: string, cases: FixtureCase[]): Promise<void> {
  const f = FixtureRepo.create('rollback');
  const name = 'fw/board-a/firmware.bin';
  const v1 = f.addImage(img(name, 8 * KiB, ['board-a'], 'firmware', '1.0.0', 1));
  f.repo.sign(T0);
  await f.publish(out, 'repos/rollback-old');
  f.addImage(img(name, 8 * KiB, ['board-a'], 'firmware', '1.1.0', 2));
  f.repo.sign(hoursAfter(T0, 1));
  await f.publish(out, 'repos/rollback-new');
  cases.push(
    caseOf({
      name: 'rollback-targets',
      repo: 'repos/rollback-old',
      target: name,
      image: targetPath('repos/rollback-old', name, v1),
      hardwareId: 'board-a',
      floors: { targetsVersion: 2 },
      trustedMetadata: 'repos/rollback-new/metadata',
      expect: 'ROLLBACK',
      note: 'validly signed targets v1 offered to a device that already trusts targets v2 (repos/rollback-new)',
    }),
  );
}

async function rotatedRepos(out: string, cases: FixtureCase[]): Promise<void> {
  const f = FixtureRepo.create('rotated');
  const name = 'fw/board-b/firmware.bin';
  const bytes = f.addImage(img(name, 12 * KiB, ['board-b'], 'firmware', '3.0.0', 4));
  f.repo.sign(T0);
  f.repo.rotateKeys('root', { add: [fixtureKey('rotated-root-v2')], remove: [fixtureKey('rotated-root').keyid] });
  f.repo.sign(hoursAfter(T0, 1));
  f.repo.rotateKeys('root', { add: [fixtureKey('rotated-root-v3')], remove: [fixtureKey('rotated-root-v2').keyid] });
  f.repo.rotateKeys('targets', { add: [fixtureKey('rotated-targets-v3')], remove: [fixtureKey('rotated-targets').keyid] });
  f.repo.sign(hoursAfter(T0, 2));
  await f.publish(out, 'repos/rotated');
  const image = targetPath('repos/rotated', name, bytes);
  cases.push(caseOf({ name: 'good-root-rotated', repo: 'repos/rotated', target: name, image, hardwareId: 'board-b', expect: 'VERIFIED', note: 'root v1→v2→v3 (new root key each time, targets key rotated in v3); trust walks from 1.root.json' }));
  await f.publish(out, 'repos/rotated-broken');
  // 2.root.json keeps only the new key's signature: the old root's threshold is not met.
  await rewriteMetadata(join(out, 'repos/rotated-broken/metadata/2.root.json'), (env) => {
    env.signatures = env.signatures.filter((s) => s.keyid !== fixtureKey('rotated-root').keyid);
  });
  cases.push(caseOf({ name: 'root-rotation-unsigned-by-old', repo: 'repos/rotated-broken', target: name, image: targetPath('repos/rotated-broken', name, bytes), hardwareId: 'board-b', expect: 'SIGNATURE_THRESHOLD', note: '2.root.json signed by the new root key only (spec 5.3.4 needs the old threshold too)' }));
}

async function thresholdRepos(out: string, cases: FixtureCase[]): Promise<void> {
  const name = 'fw/board-a/firmware.bin';
  // Root and targets need 2 of 2 signatures; targets.json carries only one.
  const t = FixtureRepo.create('threshold', { root: [fixtureKey('threshold-root-2')], targets: [fixtureKey('threshold-targets-2')] }, { root: 2, targets: 2 });
  const bytes = t.addImage(img(name, 4 * KiB, ['board-a'], 'firmware', '1.0.0', 1));
  t.repo.sign(T0);
  await t.publish(out, 'repos/threshold');
  await rewriteMetadata(join(out, 'repos/threshold/metadata/1.targets.json'), (env) => {
    env.signatures = env.signatures.filter((s) => s.keyid !== fixtureKey('threshold-targets-2').keyid);
  });
  cases.push(caseOf({ name: 'threshold-not-met', repo: 'repos/threshold', target: name, image: targetPath('repos/threshold', name, bytes), hardwareId: 'board-a', expect: 'SIGNATURE_THRESHOLD', note: 'targets threshold 2, one valid signature' }));

  // One key listed under two keyids in root: two signatures, but one signer — counted once.
  const one = fixtureKey('dupkey-targets');
  const alias = { ...one, keyid: sha256Hex(Buffer.from('edgeseal-fixtures/alias-of/dupkey-targets')) };
  const d = FixtureRepo.create('dupkey');
  d.repo.editSigned('root', (root) => {
    if (root._type !== 'root') return;
    root.keys[alias.keyid] = { keytype: 'ed25519', scheme: 'ed25519', keyval: { public: one.publicHex } };
    root.roles.targets = { keyids: [one.keyid, alias.keyid], threshold: 2 };
  });
  d.repo.addSigningKeys([one, alias]);
  const dBytes = d.addImage(img(name, 4 * KiB, ['board-a'], 'firmware', '1.0.0', 1));
  d.repo.sign(T0);
  await d.publish(out, 'repos/duplicate-key');
  cases.push(caseOf({ name: 'duplicate-key-two-keyids', repo: 'repos/duplicate-key', target: name, image: targetPath('repos/duplicate-key', name, dBytes), hardwareId: 'board-a', expect: 'SIGNATURE_THRESHOLD', note: 'targets threshold 2 met only by counting one public key twice (listed under two keyids)' }));

  // The same signature entry twice under one keyid.
  await t.publish(out, 'repos/duplicate-signature');
  await rewriteMetadata(join(out, 'repos/duplicate-signature/metadata/1.targets.json'), (env) => {
    const first = env.signatures.find((s) => s.keyid === fixtureKey('threshold-targets').keyid)!;
    env.signatures = [first, { ...first }];
  });
  cases.push(caseOf({ name: 'duplicate-signature-same-keyid', repo: 'repos/duplicate-signature', target: name, image: targetPath('repos/duplicate-signature', name, bytes), hardwareId: 'board-a', expect: 'MALFORMED_METADATA', note: 'targets.json lists the same keyid twice (spec: a key signs once); refused at parse' }));
}

async function delegationRepo(out: string, cases: FixtureCase[]): Promise<void> {
  const f = FixtureRepo.create('deleg');
  f.repo.delegate({ name: 'builder', paths: ['apps/builder/*'], keys: [fixtureKey('deleg-builder')] });
  f.addImage(img('apps/builder/ok.tar', 4 * KiB, BOTH, 'app'));
  const name = 'fw/board-a/firmware.bin';
  // The builder signs a firmware path it was never delegated (written past the publisher's own check).
  const bytes = f.addImage({ ...img(name, 4 * KiB, ['board-a'], 'firmware', '9.9.9', 99), role: 'builder' }, { unchecked: true });
  f.repo.sign(T0);
  await f.publish(out, 'repos/delegation-escape');
  cases.push(caseOf({ name: 'delegated-outside-paths', repo: 'repos/delegation-escape', target: name, image: targetPath('repos/delegation-escape', name, bytes), hardwareId: 'board-a', expect: 'DELEGATION_VIOLATION', note: 'builder (paths apps/builder/*) signs fw/board-a/firmware.bin' }));
}

export async function generate(out: string): Promise<FixtureCase[]> {
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  const cases: FixtureCase[] = [];
  await mainRepo(out, cases);
  await rollbackRepos(out, cases);
  await rotatedRepos(out, cases);
  await thresholdRepos(out, cases);
  await delegationRepo(out, cases);
  await updateScenario(out, cases);
  await writeFile(join(out, 'manifest.json'), `${JSON.stringify({ hardwareIds: HARDWARE_IDS, cases }, null, 2)}\n`);
  return cases;
}

export const DEFAULT_OUT = fileURLToPath(new URL('../../firmware-fixtures/out', import.meta.url));

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const cases = await generate(process.argv[2] ?? DEFAULT_OUT);
  process.stdout.write(`wrote ${cases.length} fixture cases to ${process.argv[2] ?? DEFAULT_OUT}\n`);
}
