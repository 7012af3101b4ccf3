import type { KeyObject } from 'node:crypto';
import { canonicalize } from '../core/canonical-json.js';
import { EdgesealError } from '../core/errors.js';
import { keyIdOf } from '../crypto/ed25519.js';
import { signDetached, verifyDetached } from './fast-ed25519.js';

// The collector's acknowledgement mark, published retained on <prefix>/<fleet>/<deviceId>/ack:
//   { "mark": AckMark, "sig": { "keyid", "alg": "ed25519", "value" } }, signed like events.
// A device in `telemetry.ack: "collector"` mode forgets an outbox entry only when a mark signed by
// the configured collector key covers it, so neither the broker nor another client can make a
// device delete evidence that the collector never stored.
//
// `ranges` lists the stored sequence ranges (newest last, at most MAX_RANGES) instead of only the
// highest contiguous seq: a seq the device itself dropped by policy never arrives, and a contiguous
// mark would stop there forever and pin everything after it in the outbox.
export interface AckMark {
  fleet: string;
  deviceId: string;
  keyId: string; // the device report key the seqs belong to (a re-provisioned device restarts at 1)
  ranges: [number, number][]; // inclusive, ascending, disjoint
  time: string;
}

export interface SignedAckMark {
  mark: AckMark;
  sig: { keyid: string; alg: 'ed25519'; value: string };
}

export const MAX_RANGES = 64;
const MAX_MARK_BYTES = 16 * 1024;

export function signAckMark(mark: AckMark, key: { privateKey: KeyObject; publicKey: Uint8Array }): SignedAckMark {
  const value = signDetached(Buffer.from(canonicalize(mark), 'utf8'), key.privateKey).toString('hex');
  return { mark, sig: { keyid: keyIdOf(Buffer.from(key.publicKey).toString('hex')), alg: 'ed25519', value } };
}

const isRange = (r: unknown): r is [number, number] =>
  Array.isArray(r) && r.length === 2 && r.every((n) => Number.isSafeInteger(n) && (n as number) >= 1) && (r[0] as number) <= (r[1] as number);

// Parses and verifies a mark for this device and report key; throws SIGNATURE_INVALID or EVENT_INVALID.
export function verifyAckMark(bytes: Uint8Array, collectorKey: Uint8Array, expect: { fleet: string; deviceId: string; keyId: string }): AckMark {
  if (bytes.length > MAX_MARK_BYTES) throw new EdgesealError('EVENT_INVALID', `ack mark: expected at most ${MAX_MARK_BYTES} bytes, found ${bytes.length}`);
  let x: Partial<SignedAckMark>;
  try {
    x = JSON.parse(Buffer.from(bytes).toString('utf8')) as Partial<SignedAckMark>;
  } catch (err) {
    throw new EdgesealError('EVENT_INVALID', 'ack mark: expected JSON, found unparseable bytes', { cause: err });
  }
  const m = x.mark;
  if (typeof m !== 'object' || m === null || !Array.isArray(m.ranges) || m.ranges.length > MAX_RANGES || !m.ranges.every(isRange) || typeof x.sig?.value !== 'string' || !/^[0-9a-f]{128}$/.test(x.sig.value)) {
    throw new EdgesealError('EVENT_INVALID', `ack mark: expected { mark: { fleet, deviceId, keyId, ranges: ≤${MAX_RANGES} [from, to] }, sig }`);
  }
  if (!verifyDetached(Buffer.from(canonicalize(m), 'utf8'), Buffer.from(x.sig.value, 'hex'), collectorKey)) {
    throw new EdgesealError('SIGNATURE_INVALID', 'ack mark: signature does not verify against the configured collector key');
  }
  // Checked after the signature: a genuine mark for another device or key must not delete our entries.
  if (m.fleet !== expect.fleet || m.deviceId !== expect.deviceId || m.keyId !== expect.keyId) {
    throw new EdgesealError('SIGNATURE_INVALID', `ack mark: expected ${expect.fleet}/${expect.deviceId} key ${expect.keyId.slice(0, 12)}, found ${String(m.fleet)}/${String(m.deviceId)} key ${String(m.keyId).slice(0, 12)}`);
  }
  return m;
}

export function markCovers(mark: AckMark, seq: number): boolean {
  return mark.ranges.some(([a, b]) => seq >= a && seq <= b);
}

// Highest seq the collector has stored (0 if none): entries below it that are not covered were lost on the way.
export function markHighest(mark: AckMark): number {
  return mark.ranges.at(-1)?.[1] ?? 0;
}
