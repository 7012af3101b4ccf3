import { expect } from 'chai';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describePkcs11Key, EDDSA_MAX_MESSAGE, listKeys, parseObjectList, pkcs11Signer, type Pkcs11Ref } from '../../src/crypto/pkcs11-signer.js';
import { signChecked } from '../../src/crypto/signer.js';
import { tufKeyId, verifyTufSignature } from '../../src/crypto/tuf-key.js';
import { expectCode } from '../helpers/expect-code.js';
import { startSoftHsm, type SoftHsmToken } from '../helpers/softhsm.js';

describe('PKCS#11 signer (real SoftHSM2 token through pkcs11-tool)', function () {
  this.timeout(20_000);
  let hsm: SoftHsmToken;
  const PIN_VAR = 'EDGESEAL_TEST_HSM_PIN';
  const conn = (): Omit<Pkcs11Ref, 'keyId'> => ({ kind: 'pkcs11', module: hsm.module, token: hsm.token, pin: { env: PIN_VAR } });

  before(async () => {
    hsm = await startSoftHsm();
    hsm.keygen('ed-key', '0a', 'ed25519');
    hsm.keygen('ec-key', '0b', 'p256');
    process.env[PIN_VAR] = hsm.pin;
  });
  after(async () => {
    delete process.env[PIN_VAR];
    await hsm.stop();
  });

  it('keys on the token are sensitive and never extractable (asserted through the token)', () => {
    const priv = listKeys({ ...conn() }, true).filter((o) => o.kind === 'private');
    expect(priv.map((o) => o.label).sort()).to.deep.equal(['ec-key', 'ed-key']);
    for (const o of priv) expect(o.access, o.label).to.match(/\bsensitive\b/).and.match(/never extractable/).and.not.match(/(^|, )extractable/);
  });

  it('Ed25519: CKA_EC_POINT read as SPKI gives the TUF ed25519 key; signatures verify as TUF ed25519', () => {
    const d = describePkcs11Key({ ...conn(), keyLabel: 'ed-key' });
    expect(d.ref.keyId).to.equal('0a');
    expect(d.publicKey.keytype).to.equal('ed25519');
    expect(d.publicKey.keyval.public).to.match(/^[0-9a-f]{64}$/);
    const signer = pkcs11Signer(d.ref, d.publicKey);
    const msg = Buffer.from('{"_type":"timestamp"}');
    const sig = signChecked(signer, msg);
    expect(sig.length).to.equal(64);
    expect(verifyTufSignature(d.publicKey, msg, sig)).to.equal(true);
    expect(verifyTufSignature(d.publicKey, Buffer.from('other'), sig)).to.equal(false);
    expect(signer.keyid).to.equal(tufKeyId(d.publicKey));
  });

  it('Ed25519: a message beyond the single-part limit is refused with a reason, not a bad signature', () => {
    const d = describePkcs11Key({ ...conn(), keyId: '0a' });
    const err = expectCode(() => pkcs11Signer(d.ref, d.publicKey).sign(Buffer.alloc(EDDSA_MAX_MESSAGE + 1, 0x61)), 'SIGNER_FAILED');
    expect(err.message).to.include('ECDSA P-256');
    expect(signChecked(pkcs11Signer(d.ref, d.publicKey), Buffer.alloc(EDDSA_MAX_MESSAGE, 0x61)).length).to.equal(64);
  });

  it('ECDSA P-256: the token signs the SHA-256 digest; the signature is DER (r, s) and the public key PEM SPKI', () => {
    const d = describePkcs11Key({ ...conn(), keyLabel: 'ec-key' });
    expect(d.publicKey).to.include({ keytype: 'ecdsa', scheme: 'ecdsa-sha2-nistp256' });
    expect(d.publicKey.keyval.public).to.match(/^-----BEGIN PUBLIC KEY-----\n/);
    const msg = Buffer.alloc(50_000, 0x62); // large messages are fine: the token signs the digest
    const sig = signChecked(pkcs11Signer(d.ref, d.publicKey), msg);
    expect(sig[0]).to.equal(0x30); // DER SEQUENCE
    expect(verifyTufSignature(d.publicKey, msg, sig)).to.equal(true);
  });

  it('reads the PIN from a file or from systemd $CREDENTIALS_DIRECTORY, and fails clearly without it', async () => {
    const d = describePkcs11Key({ ...conn(), keyLabel: 'ec-key' });
    await writeFile(join(hsm.dir, 'pin'), `${hsm.pin}\n`, { mode: 0o600 });
    await writeFile(join(hsm.dir, 'hsm-pin'), hsm.pin, { mode: 0o600 });
    const msg = Buffer.from('hello');
    expect(signChecked(pkcs11Signer({ ...d.ref, pin: { file: join(hsm.dir, 'pin') } }, d.publicKey), msg).length).to.be.greaterThan(60);
    process.env.CREDENTIALS_DIRECTORY = hsm.dir;
    try {
      expect(signChecked(pkcs11Signer({ ...d.ref, pin: { credential: 'hsm-pin' } }, d.publicKey), msg).length).to.be.greaterThan(60);
    } finally {
      delete process.env.CREDENTIALS_DIRECTORY;
    }
    expectCode(() => pkcs11Signer({ ...d.ref, pin: { credential: 'hsm-pin' } }, d.publicKey).sign(msg), 'PASSPHRASE_REQUIRED');
    expectCode(() => pkcs11Signer({ ...d.ref, pin: { env: 'EDGESEAL_TEST_NO_SUCH_PIN' } }, d.publicKey).sign(msg), 'PASSPHRASE_REQUIRED');
  });

  it('a wrong PIN or a key the reference does not describe is SIGNER_FAILED', async () => {
    const ed = describePkcs11Key({ ...conn(), keyLabel: 'ed-key' });
    const ec = describePkcs11Key({ ...conn(), keyLabel: 'ec-key' });
    await writeFile(join(hsm.dir, 'wrong-pin'), '000000');
    expectCode(() => pkcs11Signer({ ...ec.ref, pin: { file: join(hsm.dir, 'wrong-pin') } }, ec.publicKey).sign(Buffer.from('x')), 'SIGNER_FAILED');
    // The reference says key 0a (ed25519) but claims the EC public key: the signature cannot verify.
    expectCode(() => signChecked(pkcs11Signer({ ...ed.ref }, { ...ed.publicKey, keyval: { public: '00'.repeat(32) } }), Buffer.from('x')), 'SIGNER_FAILED');
    expectCode(() => describePkcs11Key({ ...conn(), keyLabel: 'no-such-key' }), 'KEY_INVALID');
  });

  it('parses pkcs11-tool object listings', () => {
    const text = ['Private Key Object; EC', '  label:      k1', '  ID:         0A', '  Access:     sensitive, never extractable', 'Certificate Object; type = X.509', '  label:      c', '  ID:         0b'].join('\n');
    expect(parseObjectList(text)).to.deep.equal([{ kind: 'private', label: 'k1', id: '0a', access: 'sensitive, never extractable' }]);
  });
});
