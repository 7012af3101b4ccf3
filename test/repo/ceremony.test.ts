import { expect } from 'chai';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EXIT } from '../../src/cli/command.js';
import { generateKey } from '../../src/crypto/ed25519.js';
import { writePrivateKeyFile, writePublicKeyFile } from '../../src/crypto/key-store.js';
import type { RoleStatus } from '../../src/repo/status.js';
import { startSoftHsm } from '../helpers/softhsm.js';
import { edgeseal, readRoot, TARGET_ARGS, tempDir, writeImage } from './cli-helpers.js';

const NOW = '2026-03-01T00:00:00Z';

// Offline root, threshold 2: the root keys live in two separate key stores ("machines" A and B, and C
// for the rotation) that never see the workdir; signatures travel in a ceremony bundle.
describe('signing ceremonies: threshold 2 one signer at a time, offline root rotation', function () {
  this.timeout(30_000);
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let dir: string;
  let out: string;
  const store = (m: string): string => join(tmp.path, `machine-${m}`);

  beforeEach(async () => {
    tmp = await tempDir();
    dir = join(tmp.path, 'work');
    out = join(tmp.path, 'pub');
  });
  afterEach(() => tmp.cleanup());

  async function ok(...argv: string[]): Promise<string[]> {
    const r = await edgeseal(...argv);
    expect(r.code, [...r.out, ...r.err].join('\n')).to.equal(EXIT.OK);
    return r.out;
  }

  async function status(): Promise<RoleStatus[]> {
    return JSON.parse((await ok('repo', 'status', '--dir', dir, '--json', '--now', NOW)).join('\n')) as RoleStatus[];
  }

  // repo init puts both root keys in the workdir; each is moved to its own machine, as the docs say.
  async function initOfflineRoot(): Promise<{ a: string; b: string }> {
    await ok('repo', 'init', '--dir', dir, '--keys', 'root=2', '--threshold', 'root=2');
    const rootKeys = (await readdir(join(dir, 'keys'))).filter((f) => f.startsWith('root-')).sort();
    const paths: string[] = [];
    for (const [i, f] of rootKeys.entries()) {
      await mkdir(store('AB'[i]), { recursive: true });
      await rename(join(dir, 'keys', f), join(store('AB'[i]), f));
      paths.push(join(store('AB'[i]), f));
    }
    await writeImage(join(tmp.path, 'fw.bin'), 300, 5);
    await ok('repo', 'add-target', join(tmp.path, 'fw.bin'), '--dir', dir, '--name', 'fw/a.bin', ...TARGET_ARGS);
    return { a: paths[0], b: paths[1] };
  }

  it('publishes root v1 only once both offline root keys signed the bundle, one machine at a time', async () => {
    const { a, b } = await initOfflineRoot();
    const refused = await edgeseal('repo', 'publish', '--dir', dir, '--out', out, '--now', NOW);
    expect(refused.code, 'without the root keys publish is refused').to.equal(EXIT.REFUSED);

    await ok('repo', 'ceremony', 'prepare', 'root', '--dir', dir, '--now', NOW, '--as', 'release-manager');
    const bundle = join(tmp.path, 'root-v1.ceremony.json');
    await ok('repo', 'ceremony', 'export', '--dir', dir, '--out', bundle, '--now', NOW);
    await ok('repo', 'ceremony', 'sign', 'root', '--bundle', bundle, '--key', a, '--as', 'alice', '--now', NOW);
    await ok('repo', 'ceremony', 'import', bundle, '--dir', dir, '--as', 'release-manager', '--now', NOW);

    const half = (await status()).find((s) => s.role === 'root')!;
    expect(half.ceremony?.version).to.equal(1);
    expect(half.ceremony?.thresholds).to.have.length(1);
    expect(half.ceremony?.thresholds[0]).to.include({ threshold: 2, met: false });
    expect(half.ceremony?.thresholds[0].signedBy.map((s) => s.by)).to.deep.equal(['alice']);
    const missingB = half.ceremony!.thresholds[0].missing;
    expect(missingB).to.have.length(1);

    const short = await edgeseal('repo', 'publish', '--dir', dir, '--out', out, '--now', NOW);
    expect(short.code).to.equal(EXIT.REFUSED);
    expect(short.err.join('\n')).to.contain(missingB[0].slice(0, 16)).and.contain('expected 2 signatures, found 1');

    await ok('repo', 'ceremony', 'sign', 'root', '--bundle', bundle, '--key', b, '--as', 'bob', '--now', NOW);
    await ok('repo', 'ceremony', 'import', bundle, '--dir', dir, '--now', NOW);
    const text = (await ok('repo', 'status', '--dir', dir, '--now', NOW)).join('\n');
    expect(text).to.contain('ready to publish').and.contain('by alice').and.contain('by bob');
    await ok('repo', 'publish', '--dir', dir, '--out', out, '--now', NOW);
    const root = await readRoot(join(out, 'metadata', '1.root.json'));
    expect(root.signatures).to.have.keys(...(await Promise.all([a, b].map(async (p) => (JSON.parse(await readFile(p, 'utf8')) as { keyid: string }).keyid))));
    const v = await edgeseal('verify', '--metadata', join(out, 'metadata'), '--target', 'fw/a.bin', '--file', join(tmp.path, 'fw.bin'), '--now', NOW);
    expect(v.code, v.out.join('\n')).to.equal(EXIT.OK);

    // The audit log lists every step, hash-chained, and travelled with the bundle.
    const state = JSON.parse(await readFile(join(dir, 'repo.json'), 'utf8')) as { audit: { action: string; by: string }[] };
    expect(state.audit.map((e) => `${e.action}:${e.by}`)).to.include.members(['prepare:release-manager', 'sign:alice', 'sign:bob', 'import:release-manager']);
    expect(state.audit.at(-1)?.action).to.equal('complete');
  });

  it('rotates the offline root (old threshold 2 and new threshold 2), refusing publish until both are met', async () => {
    const { a, b } = await initOfflineRoot();
    await ok('repo', 'publish', '--dir', dir, '--out', out, '--now', NOW, '--key', a, '--key', b); // v1 (both at once, to get going)
    const c = generateKey();
    await mkdir(store('C'), { recursive: true });
    const cPriv = join(store('C'), 'root-c.json');
    await writePrivateKeyFile(cPriv, c);
    await writePublicKeyFile(join(tmp.path, 'root-c.pub.json'), c);
    const aKeyid = (JSON.parse(await readFile(a, 'utf8')) as { keyid: string }).keyid;
    await ok('repo', 'rotate-key', 'root', '--dir', dir, '--add-key', join(tmp.path, 'root-c.pub.json'), '--remove', aKeyid, '--threshold', '2');
    await ok('repo', 'ceremony', 'prepare', 'root', '--dir', dir, '--now', NOW);
    const bundle = join(tmp.path, 'root-v2.ceremony.json');
    await ok('repo', 'ceremony', 'export', '--dir', dir, '--out', bundle, '--now', NOW);

    const root = (await status()).find((s) => s.role === 'root')!;
    expect(root.ceremony?.thresholds.map((t) => [t.name, t.threshold, t.keyids.length])).to.deep.equal([
      ['root v2 (new)', 2, 2],
      ['root v1 (previous)', 2, 2],
    ]);

    for (const [key, who] of [[a, 'alice'], [b, 'bob']]) await ok('repo', 'ceremony', 'sign', 'root', '--bundle', bundle, '--key', key, '--as', who, '--now', NOW);
    await ok('repo', 'ceremony', 'import', bundle, '--dir', dir, '--now', NOW);
    const short = await edgeseal('repo', 'publish', '--dir', dir, '--out', out, '--now', NOW);
    expect(short.code).to.equal(EXIT.REFUSED);
    expect(short.err.join('\n')).to.contain('root v2 (new): expected 2 signatures, found 1').and.contain(c.keyid.slice(0, 16)).and.not.contain('(previous): expected');

    await ok('repo', 'ceremony', 'sign', 'root', '--bundle', bundle, '--key', cPriv, '--as', 'carol', '--now', NOW);
    await ok('repo', 'ceremony', 'import', bundle, '--dir', dir, '--now', NOW);
    await ok('repo', 'publish', '--dir', dir, '--out', out, '--now', NOW);
    const v2 = await readRoot(join(out, 'metadata', '2.root.json'));
    expect(Object.keys(v2.signatures)).to.have.length(3);
    const v = await edgeseal('verify', '--metadata', join(out, 'metadata'), '--target', 'fw/a.bin', '--file', join(tmp.path, 'fw.bin'), '--now', NOW, '--initial-root', join(out, 'metadata', '1.root.json'));
    expect(v.code, v.out.join('\n')).to.equal(EXIT.OK);
    expect(v.out.at(-1)).to.contain('version 2');
  });

  it('a root key held in an HSM (SoftHSM2, ECDSA P-256) joins by reference and signs the bundle on its own machine', async () => {
    const { a, b } = await initOfflineRoot();
    await ok('repo', 'publish', '--dir', dir, '--out', out, '--now', NOW, '--key', a, '--key', b);
    const hsm = await startSoftHsm();
    process.env.EDGESEAL_TEST_CEREMONY_PIN = hsm.pin;
    try {
      hsm.keygen('root-carol', '01', 'p256');
      const ref = join(tmp.path, 'carol.signer.json');
      await ok('repo', 'signer', 'pkcs11', '--out', ref, '--module', hsm.module, '--token', hsm.token, '--key-label', 'root-carol', '--pin-env', 'EDGESEAL_TEST_CEREMONY_PIN');
      const aKeyid = (JSON.parse(await readFile(a, 'utf8')) as { keyid: string }).keyid;
      await ok('repo', 'rotate-key', 'root', '--dir', dir, '--add-signer', ref, '--remove', aKeyid.slice(0, 16), '--threshold', '2');
      await ok('repo', 'ceremony', 'prepare', 'root', '--dir', dir, '--now', NOW);
      const bundle = join(tmp.path, 'root-v2.json');
      await ok('repo', 'ceremony', 'export', '--dir', dir, '--out', bundle, '--now', NOW);
      await ok('repo', 'ceremony', 'sign', 'root', '--bundle', bundle, '--key', a, '--key', b, '--now', NOW);
      await ok('repo', 'ceremony', 'sign', 'root', '--bundle', bundle, '--signer', ref, '--as', 'carol', '--now', NOW);
      await ok('repo', 'ceremony', 'import', bundle, '--dir', dir, '--now', NOW);
      await ok('repo', 'publish', '--dir', dir, '--out', out, '--now', NOW);
    } finally {
      delete process.env.EDGESEAL_TEST_CEREMONY_PIN;
      await hsm.stop();
    }
    const v2 = await readRoot(join(out, 'metadata', '2.root.json'));
    expect(v2.signed.roles.root.keyIDs.map((id) => v2.signed.keys[id].scheme).sort()).to.deep.equal(['ecdsa-sha2-nistp256', 'ed25519']);
    const v = await edgeseal('verify', '--metadata', join(out, 'metadata'), '--target', 'fw/a.bin', '--file', join(tmp.path, 'fw.bin'), '--now', NOW, '--initial-root', join(out, 'metadata', '1.root.json'));
    expect(v.code, v.out.join('\n')).to.equal(EXIT.OK);
  });

  it('a change to the role drops collected signatures; a bundle with other bytes conflicts; a forged signature is refused', async () => {
    const { a } = await initOfflineRoot();
    await ok('repo', 'ceremony', 'prepare', 'targets', '--dir', dir, '--now', NOW);
    const stale = join(tmp.path, 'stale.json');
    await ok('repo', 'ceremony', 'export', '--dir', dir, '--out', stale, '--now', NOW);
    await ok('repo', 'ceremony', 'sign', 'targets', '--dir', dir, '--now', NOW);
    expect((await status()).find((s) => s.role === 'targets')?.ceremony?.ready).to.equal(true);

    await ok('repo', 'remove-target', '--dir', dir, '--name', 'fw/a.bin'); // changes the bytes
    expect((await status()).find((s) => s.role === 'targets')?.ceremony, 'pending version dropped').to.equal(undefined);
    await ok('repo', 'ceremony', 'prepare', 'targets', '--dir', dir, '--now', NOW);
    const conflict = await edgeseal('repo', 'ceremony', 'import', stale, '--dir', dir, '--now', NOW);
    expect(conflict.code).to.equal(EXIT.REFUSED);
    expect(conflict.err.join('\n')).to.match(/CEREMONY_CONFLICT|different bytes/);

    // A signature by a key the role does not list, or one over other bytes, never gets in.
    const fresh = join(tmp.path, 'fresh.json');
    await ok('repo', 'ceremony', 'export', '--dir', dir, '--out', fresh, '--now', NOW);
    expect((await edgeseal('repo', 'ceremony', 'sign', 'targets', '--bundle', fresh, '--key', a, '--now', NOW)).code).to.equal(EXIT.USAGE);
    const b = JSON.parse(await readFile(fresh, 'utf8')) as { roles: { targets: { pending: { signatures: { keyid: string; sig: string }[] } } } };
    const targetsKey = (await status()).find((s) => s.role === 'targets')!.keyids[0];
    b.roles.targets.pending.signatures.push({ keyid: targetsKey, sig: 'ab'.repeat(64) });
    await writeFile(fresh, JSON.stringify(b));
    const forged = await edgeseal('repo', 'ceremony', 'import', fresh, '--dir', dir, '--now', NOW);
    expect(forged.code).to.equal(EXIT.REFUSED);
    expect(forged.err.join('\n')).to.contain('does not verify');
  });

  it('a pending version expires with its own expiry; an edited audit log is refused', async () => {
    const { a, b } = await initOfflineRoot();
    await ok('repo', 'publish', '--dir', dir, '--out', out, '--now', NOW, '--key', a, '--key', b);
    await ok('repo', 'ceremony', 'prepare', 'targets', '--dir', dir, '--now', NOW);
    await ok('repo', 'ceremony', 'sign', 'targets', '--dir', dir, '--now', NOW);
    const late = await edgeseal('repo', 'sign', '--dir', dir, '--now', '2026-07-01T00:00:00Z'); // targets: 90 days
    expect(late.code).to.equal(EXIT.REFUSED);
    expect(late.err.join('\n')).to.contain('EXPIRED').and.contain('prepare it again');

    const state = JSON.parse(await readFile(join(dir, 'repo.json'), 'utf8')) as { audit: { by: string }[] };
    state.audit[0].by = 'someone-else';
    await writeFile(join(dir, 'repo.json'), JSON.stringify(state));
    expect((await edgeseal('repo', 'status', '--dir', dir)).code).to.equal(EXIT.REFUSED);
  });
});
