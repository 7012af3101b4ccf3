import { canonicalize } from '../core/canonical-json.js';
import { EdgesealError } from '../core/errors.js';
import { keyFromSeed, keyIdOf } from '../crypto/ed25519.js';
import { assertEvent, type TelemetryEvent } from './event.js';
import { privateKeyFromSeed, signDetached, verifyDetached } from './fast-ed25519.js';

// Wire format of every message on the event and metrics topics (one JSON object per line in files):
//   { "event": TelemetryEvent, "sig": { "keyid": hex, "alg": "ed25519", "value": hex } }
// value = ed25519 detached signature over canonicalize(event) (OLPC canonical JSON, as TUF uses),
// keyid = the TUF keyid of the public key (sha256 of its canonical key JSON, as for every other key
// in the project). The fleet re-derives the signed bytes from the parsed event.
export interface SignedEnvelope {
  event: TelemetryEvent;
  sig: { keyid: string; alg: 'ed25519'; value: string };
}

export interface EventSigner {
  readonly keyid: string;
  readonly publicKey: Uint8Array;
  sign(event: TelemetryEvent): SignedEnvelope;
}

const MAX_ENVELOPE_BYTES = 64 * 1024;

// The signed bytes. OLPC canonical JSON refuses floats; that is a malformed event, not a crash.
function canonicalBytes(event: TelemetryEvent): Buffer {
  try {
    return Buffer.from(canonicalize(event), 'utf8');
  } catch (err) {
    throw new EdgesealError('EVENT_INVALID', `event seq ${event.seq}: cannot canonicalize (${(err as Error).message}); numbers must be integers`, { cause: err });
  }
}

// keyid of a raw 32-byte report public key.
export function reportKeyId(publicKey: Uint8Array): string {
  return keyIdOf(Buffer.from(publicKey).toString('hex'));
}

// The device report key: the 32-byte seed comes from the TPM-sealed anchors (trust layer); the key
// pair is nacl.sign.keyPair.fromSeed(seed) (via src/crypto/ed25519.ts).
export function createEventSigner(seed: Uint8Array): EventSigner {
  const key = keyFromSeed(seed);
  const privateKey = privateKeyFromSeed(seed);
  return {
    keyid: key.keyid,
    publicKey: Uint8Array.from(Buffer.from(key.publicHex, 'hex')),
    sign(event) {
      const value = signDetached(canonicalBytes(event), privateKey);
      return { event, sig: { keyid: key.keyid, alg: 'ed25519', value: value.toString('hex') } };
    },
  };
}

export function encodeEnvelope(env: SignedEnvelope): Uint8Array {
  return Buffer.from(JSON.stringify(env), 'utf8');
}

// Parses bytes into an envelope, capping size before parsing and checking every field's shape.
export function parseEnvelope(bytes: Uint8Array | string): SignedEnvelope {
  const size = typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.length;
  if (size > MAX_ENVELOPE_BYTES) throw new EdgesealError('EVENT_INVALID', `envelope: expected at most ${MAX_ENVELOPE_BYTES} bytes, found ${size}`);
  let x: unknown;
  try {
    x = JSON.parse(typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw new EdgesealError('EVENT_INVALID', `envelope: expected JSON, found unparseable bytes`, { cause: err });
  }
  const env = x as Partial<SignedEnvelope> | null;
  const sig = env?.sig as Partial<SignedEnvelope['sig']> | undefined;
  if (typeof env !== 'object' || env === null || typeof sig !== 'object' || sig === null) {
    throw new EdgesealError('EVENT_INVALID', 'envelope: expected { event, sig }');
  }
  if (sig.alg !== 'ed25519' || typeof sig.keyid !== 'string' || typeof sig.value !== 'string' || !/^[0-9a-f]{128}$/.test(sig.value)) {
    throw new EdgesealError('EVENT_INVALID', 'envelope.sig: expected { keyid, alg: "ed25519", value: 128 hex characters }');
  }
  assertEvent(env.event);
  return env as SignedEnvelope;
}

// Fleet-side check: the signature must be by this public key over the canonical bytes of the event.
export function verifyEnvelope(env: SignedEnvelope, publicKey: Uint8Array): void {
  const expected = reportKeyId(publicKey);
  if (env.sig.keyid !== expected) {
    throw new EdgesealError('SIGNATURE_INVALID', `event seq ${env.event.seq}: expected keyid ${expected}, found ${env.sig.keyid}`);
  }
  const ok = verifyDetached(canonicalBytes(env.event), Buffer.from(env.sig.value, 'hex'), publicKey);
  if (!ok) throw new EdgesealError('SIGNATURE_INVALID', `event seq ${env.event.seq} from ${env.event.deviceId}: ed25519 signature does not verify`);
}
