import { expect } from 'chai';
import { generateKeyPairSync } from 'node:crypto';
import { makeSignerRef, parseSignerRef } from '../../src/crypto/signer-ref.js';
import { parseTufKey, tufKeyFromSpki, tufKeyId, type TufKey } from '../../src/crypto/tuf-key.js';
import { appendAudit } from '../../src/repo/audit.js';
import { parseBundle } from '../../src/repo/ceremony-bundle.js';
import { expectCode } from '../helpers/expect-code.js';

const spki = (k: ReturnType<typeof generateKeyPairSync>['publicKey']): Uint8Array => k.export({ format: 'der', type: 'spki' });
const ecKey: TufKey = tufKeyFromSpki(spki(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey));
const pkcs11 = { kind: 'pkcs11', module: '/usr/lib/softhsm/libsofthsm2.so', token: 't', keyId: '01', pin: { env: 'PIN' } } as const;

// Signer references and ceremony bundles are read from files that travel: adversarial inputs are refused, never crash.
describe('signer references, TUF keys and ceremony bundles (adversarial inputs)', () => {
  it('round-trips a reference and derives the key id from the public key', () => {
    const ref = makeSignerRef(pkcs11, ecKey);
    expect(parseSignerRef(JSON.parse(JSON.stringify(ref)))).to.deep.equal(ref);
    expect(ref.keyid).to.equal(tufKeyId(ecKey));
  });

  const good = (): Record<string, unknown> => JSON.parse(JSON.stringify(makeSignerRef(pkcs11, ecKey))) as Record<string, unknown>;
  const cases: [string, (r: Record<string, unknown>) => unknown][] = [
    ['not an object', () => 'x'],
    ['another format', (r) => ({ ...r, format: 'edgeseal-signer/2' })],
    ['a key id that is not the public key’s', (r) => ({ ...r, keyid: '00'.repeat(32) })],
    ['an unknown signer kind', (r) => ({ ...r, signer: { kind: 'kms' } })],
    ['a PIN given inline', (r) => ({ ...r, signer: { ...pkcs11, pin: '1234' } })],
    ['two PIN sources', (r) => ({ ...r, signer: { ...pkcs11, pin: { env: 'A', file: '/x' } } })],
    ['a non-hex CKA_ID', (r) => ({ ...r, signer: { ...pkcs11, keyId: 'zz' } })],
    ['an empty command argv', (r) => ({ ...r, signer: { kind: 'command', argv: [] } })],
    ['a negative timeout', (r) => ({ ...r, signer: { kind: 'command', argv: ['x'], timeoutSeconds: -1 } })],
    ['an RSA public key', (r) => ({ ...r, publicKey: { keytype: 'ecdsa', scheme: 'ecdsa-sha2-nistp256', keyval: { public: generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'pem', type: 'spki' }) } } })],
    ['a P-384 key claimed as P-256', (r) => ({ ...r, publicKey: { keytype: 'ecdsa', scheme: 'ecdsa-sha2-nistp256', keyval: { public: generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey.export({ format: 'pem', type: 'spki' }) } } })],
    ['an ed25519 key that is not 32 bytes of hex', (r) => ({ ...r, publicKey: { keytype: 'ed25519', scheme: 'ed25519', keyval: { public: 'abcd' } } })],
  ];
  for (const [what, mutate] of cases) {
    it(`refuses ${what}`, () => {
      expectCode(() => parseSignerRef(mutate(good())), 'KEY_INVALID');
    });
  }

  it('takes an ed25519 public key from an SPKI and refuses a garbled one', () => {
    const ed = tufKeyFromSpki(spki(generateKeyPairSync('ed25519').publicKey));
    expect(parseTufKey(ed)).to.deep.equal(ed);
    expectCode(() => tufKeyFromSpki(Buffer.from('3000', 'hex')), 'KEY_INVALID');
  });

  it('refuses a ceremony bundle with an edited or reordered audit log', () => {
    const audit = appendAudit(appendAudit([], { at: 't0', action: 'prepare', role: 'root', version: 2, by: 'a' }), { at: 't1', action: 'sign', role: 'root', version: 2, by: 'b', keyid: 'k' });
    const bundle = { format: 'edgeseal-ceremony/1', exportedAt: 't', roles: {}, audit };
    expect(parseBundle(bundle).audit).to.have.length(2);
    expectCode(() => parseBundle({ ...bundle, audit: [{ ...audit[0], by: 'mallory' }, audit[1]] }), 'MALFORMED_METADATA');
    expectCode(() => parseBundle({ ...bundle, audit: [audit[1]] }), 'MALFORMED_METADATA');
    expectCode(() => parseBundle({ ...bundle, roles: { root: { pending: {} } } }), 'MALFORMED_METADATA');
    expectCode(() => parseBundle({ ...bundle, format: 'x' }), 'MALFORMED_METADATA');
  });
});
