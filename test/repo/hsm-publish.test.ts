import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { EXIT } from '../../src/cli/command.js';
import { EXTERNAL_SIGNER, signerKey } from '../helpers/external-signer-key.js';
import { startSoftHsm, type SoftHsmToken } from '../helpers/softhsm.js';
import { edgeseal, readRoot, TARGET_ARGS, tempDir, writeImage } from './cli-helpers.js';

const PYTHON_CLIENT = fileURLToPath(new URL('../../../test/helpers/python_tuf_client.py', import.meta.url));
// python-tuf and securesystemslib sources (pure Python), kept in ../shared beside the checkout (dist/test/repo → 4 up);
// EDGESEAL_PYTUF_PATH points elsewhere.
const PYDEPS = process.env.EDGESEAL_PYTUF_PATH ?? fileURLToPath(new URL('../../../../shared/tuf-conformance/pydeps', import.meta.url));

// Runs python-tuf's ngclient over the published directory; resolves with its JSON line or rejects.
export async function pythonTufFetch(published: string, target: string, work: string): Promise<{ target: string; length: number; sha256: string }> {
  const { stdout } = await promisify(execFile)('python3', [PYTHON_CLIENT, published, join(published, 'metadata', '1.root.json'), target, work], {
    env: { ...process.env, PYTHONPATH: PYDEPS },
  });
  return JSON.parse(stdout) as { target: string; length: number; sha256: string };
}

describe('repository with keys in a SoftHSM2 token and an external signer, read by the device and python-tuf', function () {
  this.timeout(60_000);
  let hsm: SoftHsmToken;
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  const PIN_VAR = 'EDGESEAL_TEST_REPO_PIN';

  beforeEach(async () => {
    tmp = await tempDir();
    hsm = await startSoftHsm();
    process.env[PIN_VAR] = hsm.pin;
  });
  afterEach(async () => {
    delete process.env[PIN_VAR];
    await hsm.stop();
    await tmp.cleanup();
  });

  async function ok(...argv: string[]): Promise<string[]> {
    const r = await edgeseal(...argv);
    expect(r.code, [...r.out, ...r.err].join('\n')).to.equal(EXIT.OK);
    return r.out;
  }

  async function tokenSigner(name: string, id: string, type: 'ed25519' | 'p256'): Promise<string> {
    hsm.keygen(name, id, type);
    const ref = join(tmp.path, `${name}.signer.json`);
    const out = await ok('repo', 'signer', 'pkcs11', '--out', ref, '--module', hsm.module, '--token', hsm.token, '--key-label', name, '--pin-env', PIN_VAR);
    expect(out[0]).to.match(/sensitive.*never extractable/);
    return ref;
  }

  // Ed25519 through pkcs11-tool signs at most 1024 bytes (single-part CKM_EDDSA), so the Ed25519 root
  // stays small: one token key for root and targets, one for snapshot and timestamp.
  const LAYOUTS = {
    ed25519: { root: 'a', targets: 'a', snapshot: 'b', timestamp: 'b' },
    p256: { root: 'a', targets: 'b', snapshot: 'c', timestamp: 'd' },
  } as const;

  for (const type of ['ed25519', 'p256'] as const) {
    it(`${type}: publish, then edgeseal verify and python-tuf's client accept the targets (top-level and delegated)`, async () => {
      const dir = join(tmp.path, 'work');
      const out = join(tmp.path, 'pub');
      const layout = LAYOUTS[type];
      const refs = new Map<string, string>();
      for (const [i, k] of [...new Set(Object.values(layout))].entries()) refs.set(k, await tokenSigner(`key-${k}`, `0${i + 1}`, type));
      await ok('repo', 'init', '--dir', dir, ...Object.entries(layout).flatMap(([role, k]) => ['--signer', `${role}=${refs.get(k) ?? ''}`]));
      const cmdRef = join(tmp.path, 'builder.signer.json');
      await ok('repo', 'signer', 'command', '--out', cmdRef, '--', process.execPath, EXTERNAL_SIGNER, await signerKey(tmp.path, type));
      await ok('repo', 'delegate', '--dir', dir, '--role', 'builder', '--path', 'apps/*', '--signer', cmdRef);
      const fw = await writeImage(join(tmp.path, 'fw.bin'), 5000, 3);
      await writeImage(join(tmp.path, 'app.tar'), 700, 4);
      await ok('repo', 'add-target', join(tmp.path, 'fw.bin'), '--dir', dir, '--name', 'fw/board-a/fw.bin', ...TARGET_ARGS);
      await ok('repo', 'add-target', join(tmp.path, 'app.tar'), '--dir', dir, '--name', 'apps/app.tar', '--role', 'builder', ...TARGET_ARGS);
      await ok('repo', 'publish', '--dir', dir, '--out', out);

      const root = await readRoot(join(out, 'metadata', '1.root.json'));
      const scheme = type === 'ed25519' ? 'ed25519' : 'ecdsa-sha2-nistp256';
      expect(Object.values(root.signed.keys).map((k) => k.scheme)).to.deep.equal(Object.keys(root.signed.keys).map(() => scheme));
      expect(await readdirKeys(dir)).to.equal(0); // no private key file was written: every key is elsewhere

      for (const [name, file] of [['fw/board-a/fw.bin', 'fw.bin'], ['apps/app.tar', 'app.tar']]) {
        const v = await edgeseal('verify', '--metadata', join(out, 'metadata'), '--target', name, '--file', join(tmp.path, file), '--hardware-id', 'board-a');
        expect(v.code, v.out.join('\n')).to.equal(EXIT.OK);
        expect(v.out[0]).to.equal(`VERIFIED ${name}`);
        const py = await pythonTufFetch(out, name, join(tmp.path, `py-${file}`));
        expect(py.target).to.equal(name);
      }
      const py = await pythonTufFetch(out, 'fw/board-a/fw.bin', join(tmp.path, 'py-again'));
      expect(py.length).to.equal(fw.length);
    });
  }

  it('python-tuf refuses the same repository once a token-signed timestamp is tampered with', async () => {
    const dir = join(tmp.path, 'work');
    const out = join(tmp.path, 'pub');
    const ref = await tokenSigner('key-a', '01', 'p256');
    await ok('repo', 'init', '--dir', dir, ...['root', 'targets', 'snapshot', 'timestamp'].flatMap((r) => ['--signer', `${r}=${ref}`]));
    await writeImage(join(tmp.path, 'fw.bin'), 100, 3);
    await ok('repo', 'add-target', join(tmp.path, 'fw.bin'), '--dir', dir, '--name', 'fw/board-a/fw.bin', ...TARGET_ARGS);
    await ok('repo', 'publish', '--dir', dir, '--out', out);
    const ts = join(out, 'metadata', 'timestamp.json');
    await writeFile(ts, (await readFile(ts, 'utf8')).replace('"version": 1', '"version": 2'));
    let refused = '';
    await pythonTufFetch(out, 'fw/board-a/fw.bin', join(tmp.path, 'py')).catch((e: { stderr?: string }) => {
      refused = e.stderr ?? 'refused';
    });
    expect(refused).to.match(/signature|threshold|Unsigned/i);
  });
});

async function readdirKeys(dir: string): Promise<number> {
  return (await readdir(join(dir, 'keys')).catch(() => [])).length;
}
