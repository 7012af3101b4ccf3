import { expect } from 'chai';
import nacl from 'tweetnacl';
import { canonicalize } from '@tufjs/canonical-json';
import { buildEvent } from '../../src/telemetry/event.js';
import { keyIdOf } from '../../src/crypto/ed25519.js';
import { createEventSigner, encodeEnvelope, parseEnvelope, verifyEnvelope } from '../../src/telemetry/envelope.js';
import { expectCode } from '../helpers/expect-code.js';

const seed = new Uint8Array(32).fill(7);
const event = buildEvent({ type: 'update-decision', verdict: 'ok', image: { name: 'os.img', version: '1.2.3' } }, { deviceId: 'd1', fleet: 'f', seq: 3, now: new Date(0) });

describe('signed event envelope', () => {
  it('signs the canonical JSON of the event exactly as nacl.sign.detached with the seed-derived key', () => {
    for (const s of [seed, new Uint8Array(32), Uint8Array.from({ length: 32 }, (_, i) => i * 7)]) {
      const env = createEventSigner(s).sign(event);
      const pair = nacl.sign.keyPair.fromSeed(s);
      expect(env.sig).to.include({ alg: 'ed25519', keyid: keyIdOf(Buffer.from(pair.publicKey).toString('hex')) });
      expect(env.sig.value).to.equal(Buffer.from(nacl.sign.detached(Buffer.from(canonicalize(event)), pair.secretKey)).toString('hex'));
    }
  });

  it('accepts exactly what nacl accepts when verifying', () => {
    const pair = nacl.sign.keyPair.fromSeed(seed);
    const value = Buffer.from(nacl.sign.detached(Buffer.from(canonicalize(event)), pair.secretKey)).toString('hex');
    const keyid = keyIdOf(Buffer.from(pair.publicKey).toString('hex'));
    verifyEnvelope({ event, sig: { keyid, alg: 'ed25519', value } }, pair.publicKey);
    const flipped = (value[0] === '0' ? '1' : '0') + value.slice(1);
    expectCode(() => verifyEnvelope({ event, sig: { keyid, alg: 'ed25519', value: flipped } }, pair.publicKey), 'SIGNATURE_INVALID');
  });

  it('round-trips through bytes and verifies against the device public key', () => {
    const signer = createEventSigner(seed);
    const env = parseEnvelope(encodeEnvelope(signer.sign(event)));
    verifyEnvelope(env, signer.publicKey);
    expect(env.event).to.deep.equal(event);
  });

  it('rejects a forged event: altered field, other key, or wrong key id', () => {
    const signer = createEventSigner(seed);
    const env = signer.sign(event);
    expectCode(() => verifyEnvelope({ ...env, event: { ...event, verdict: 'refused', code: 'KEY_REVOKED' } }, signer.publicKey), 'SIGNATURE_INVALID');
    const forger = createEventSigner(new Uint8Array(32).fill(9));
    expectCode(() => verifyEnvelope({ ...forger.sign(event), sig: { ...forger.sign(event).sig, keyid: signer.keyid } }, signer.publicKey), 'SIGNATURE_INVALID');
    expectCode(() => verifyEnvelope(forger.sign(event), signer.publicKey), 'SIGNATURE_INVALID');
  });

  it('refuses to sign a float it cannot canonicalize (metrics bodies are free-form)', () => {
    const signer = createEventSigner(seed);
    expectCode(() => signer.sign({ ...event, type: 'metrics', verdict: 'info', metrics: { ratio: 0.5 } }), 'EVENT_INVALID');
  });

  it('rejects a seed that is not 32 bytes', () => {
    expectCode(() => createEventSigner(new Uint8Array(31)), 'KEY_INVALID');
  });

  const bad: [string, string][] = [
    ['non-JSON', '{"event":'],
    ['no sig', JSON.stringify({ event })],
    ['a wrong alg', JSON.stringify({ event, sig: { keyid: 'a', alg: 'rsa', value: 'a'.repeat(128) } })],
    ['a short signature', JSON.stringify({ event, sig: { keyid: 'a', alg: 'ed25519', value: 'ab' } })],
    ['an invalid event', JSON.stringify({ event: { ...event, seq: -1 }, sig: { keyid: 'a', alg: 'ed25519', value: 'a'.repeat(128) } })],
    ['an oversized payload', `{"event":"${'x'.repeat(70_000)}"}`],
  ];
  for (const [what, text] of bad) it(`rejects an envelope with ${what}`, () => void expectCode(() => parseEnvelope(text), 'EVENT_INVALID'));
});
