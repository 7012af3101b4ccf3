import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commandPublicKey, commandSigner, type CommandRef } from '../../src/crypto/command-signer.js';
import { signChecked } from '../../src/crypto/signer.js';
import { verifyTufSignature } from '../../src/crypto/tuf-key.js';
import { expectCode } from '../helpers/expect-code.js';
import { EXTERNAL_SIGNER, signerKey } from '../helpers/external-signer-key.js';

describe('external signer command', function () {
  this.timeout(20_000);
  let dir: string;
  const ref = (key: string, mode = 'ok', timeoutSeconds?: number): CommandRef => ({
    kind: 'command',
    argv: [process.execPath, EXTERNAL_SIGNER, key, mode],
    ...(timeoutSeconds ? { timeoutSeconds } : {}),
  });
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'edgeseal-cmd-signer-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  for (const type of ['ed25519', 'p256'] as const) {
    it(`${type}: public key from EDGESEAL_SIGNER_OP=public-key, hex signature over stdin`, async () => {
      const key = await signerKey(dir, type);
      const pub = commandPublicKey(ref(key));
      expect(pub.scheme).to.equal(type === 'ed25519' ? 'ed25519' : 'ecdsa-sha2-nistp256');
      const msg = Buffer.alloc(100_000, 0x41);
      const sig = signChecked(commandSigner(ref(key), pub), msg);
      expect(verifyTufSignature(pub, msg, sig)).to.equal(true);
    });
  }

  it("does not hand edgeseal's key-file passphrase to the command", async () => {
    const key = await signerKey(dir, 'ed25519');
    const pub = commandPublicKey(ref(key));
    process.env.EDGESEAL_PASSPHRASE = 'key-file secret';
    try {
      expect(signChecked(commandSigner(ref(key, 'no-secrets'), pub), Buffer.from('x')).length).to.equal(64);
    } finally {
      delete process.env.EDGESEAL_PASSPHRASE;
    }
  });

  it('non-zero exit, timeout, garbage and a signature by another key are SIGNER_FAILED', async () => {
    const key = await signerKey(dir, 'ed25519');
    const pub = commandPublicKey(ref(key));
    const err = expectCode(() => commandSigner(ref(key, 'fail'), pub).sign(Buffer.from('x')), 'SIGNER_FAILED');
    expect(err.message).to.include('exit status 4').and.include('access denied');
    expect(expectCode(() => commandSigner(ref(key, 'hang', 1), pub).sign(Buffer.from('x')), 'SIGNER_FAILED').message).to.include('within 1000 ms');
    expectCode(() => commandSigner(ref(key, 'garbage'), pub).sign(Buffer.from('x')), 'SIGNER_FAILED');
    expectCode(() => signChecked(commandSigner(ref(key, 'wrong'), pub), Buffer.from('x')), 'SIGNER_FAILED');
    expectCode(() => commandPublicKey(ref(key, 'fail')), 'SIGNER_FAILED');
  });
});
