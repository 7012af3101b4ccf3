import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SOFTHSM_MODULE = '/usr/lib/softhsm/libsofthsm2.so';

export interface SoftHsmToken {
  readonly dir: string;
  readonly module: string;
  readonly token: string;
  readonly pin: string;
  // Generates a key pair on the token: sensitive, never extractable (pkcs11-tool sets no CKA_EXTRACTABLE).
  keygen(label: string, id: string, type: 'ed25519' | 'p256'): void;
  stop(): Promise<void>;
}

// A real SoftHSM2 token in a temp dir; SOFTHSM2_CONF points at it (in this process, so the signer
// subprocesses inherit it) until stop().
export async function startSoftHsm(token = 'edgeseal-test', pin = '246810'): Promise<SoftHsmToken> {
  const dir = await mkdtemp(join(tmpdir(), 'edgeseal-softhsm-'));
  await mkdir(join(dir, 'tokens'));
  const conf = join(dir, 'softhsm2.conf');
  await writeFile(conf, `directories.tokendir = ${join(dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  const previous = process.env.SOFTHSM2_CONF;
  process.env.SOFTHSM2_CONF = conf;
  execFileSync('softhsm2-util', ['--init-token', '--free', '--label', token, '--pin', pin, '--so-pin', `${pin}0`], { stdio: 'pipe' });
  return {
    dir,
    module: SOFTHSM_MODULE,
    token,
    pin,
    keygen(label, id, type) {
      const keyType = type === 'ed25519' ? 'EC:edwards25519' : 'EC:prime256v1';
      execFileSync(
        'pkcs11-tool',
        ['--module', SOFTHSM_MODULE, '--token-label', token, '--pin', 'env:TEST_PIN', '--keypairgen', '--key-type', keyType, '--label', label, '--id', id, '--sensitive'],
        { stdio: 'pipe', env: { ...process.env, TEST_PIN: pin } },
      );
    },
    async stop() {
      if (previous === undefined) delete process.env.SOFTHSM2_CONF;
      else process.env.SOFTHSM2_CONF = previous;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
