import { expect } from 'chai';
import { mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKey, isSigningKey } from '../../src/crypto/ed25519.js';
import { decodeKeyFile, encodePrivateKeyFile, encodePublicKeyFile } from '../../src/crypto/key-file.js';
import { readKeyFile, writePrivateKeyFile } from '../../src/crypto/key-store.js';
import { expectCode, expectCodeAsync } from '../helpers/expect-code.js';

describe('crypto/key-file', () => {
  const key = generateKey();

  it('round-trips a plain private key file in securesystemslib shape', () => {
    const text = encodePrivateKeyFile(key);
    const json = JSON.parse(text) as Record<string, unknown>;
    expect(json).to.include({ keytype: 'ed25519', scheme: 'ed25519', keyid: key.keyid });
    const back = decodeKeyFile(text);
    expect(isSigningKey(back)).to.equal(true);
    expect(back.keyid).to.equal(key.keyid);
    expect(Buffer.from(back.seed!).equals(Buffer.from(key.seed))).to.equal(true);
  });

  it('writes public key files without the private half', () => {
    const text = encodePublicKeyFile(key);
    expect(text).not.to.contain(Buffer.from(key.seed).toString('hex'));
    const back = decodeKeyFile(text);
    expect(back.seed).to.equal(undefined);
    expect(back.keyid).to.equal(key.keyid);
  });

  it('encrypts with a passphrase: the seed is not in the file, and only the right passphrase opens it', () => {
    const text = encodePrivateKeyFile(key, 'correct horse');
    expect(text).not.to.contain(Buffer.from(key.seed).toString('hex'));
    expect(decodeKeyFile(text, 'correct horse').keyid).to.equal(key.keyid);
    expectCode(() => decodeKeyFile(text), 'PASSPHRASE_REQUIRED');
    expectCode(() => decodeKeyFile(text, 'wrong'), 'KEY_INVALID');
  });

  it('refuses an encrypted file whose public key was swapped (keyid is authenticated)', () => {
    const other = generateKey();
    const json = JSON.parse(encodePrivateKeyFile(key, 'pw')) as { keyid: string; keyval: { public: string } };
    json.keyid = other.keyid;
    json.keyval.public = other.publicHex;
    expectCode(() => decodeKeyFile(JSON.stringify(json), 'pw'), 'KEY_INVALID');
  });

  it('rejects malformed files with KEY_INVALID', () => {
    const good = JSON.parse(encodePrivateKeyFile(key)) as Record<string, unknown>;
    const bad: unknown[] = [
      '{not json',
      [],
      { ...good, keytype: 'rsa' },
      { ...good, keyid: 'f'.repeat(64) },
      { ...good, keyval: { public: key.publicHex, private: 'zz' } },
      { ...good, keyval: { public: key.publicHex, private: Buffer.from(generateKey().seed).toString('hex') } },
      { ...good, keyval: null },
    ];
    for (const b of bad) expectCode(() => decodeKeyFile(typeof b === 'string' ? b : JSON.stringify(b)), 'KEY_INVALID');
  });

  describe('on disk', () => {
    let dir: string;
    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'edgeseal-keys-'));
    });
    afterEach(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('creates private key files with mode 0600 and reads them back', async () => {
      const path = join(dir, 'root.json');
      await writePrivateKeyFile(path, key);
      expect((await stat(path)).mode & 0o777).to.equal(0o600);
      expect((await readKeyFile(path)).keyid).to.equal(key.keyid);
    });

    it('refuses a symlink where a key file is expected', async () => {
      const real = join(dir, 'real.json');
      await writeFile(real, encodePrivateKeyFile(key));
      await symlink(real, join(dir, 'link.json'));
      await expectCodeAsync(() => readKeyFile(join(dir, 'link.json')), 'UNSAFE_PATH');
    });

    it('reports a missing key file as a storage error', async () => {
      await expectCodeAsync(() => readKeyFile(join(dir, 'absent.json')), 'STORAGE_ERROR');
    });
  });
});
