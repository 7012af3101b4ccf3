import { createHash, verify, type KeyObject } from 'node:crypto';
import { canonicalize } from '../core/canonical-json.js';
import { asEdgesealError, EdgesealError } from '../core/errors.js';
import { parseEnvelope } from '../telemetry/envelope.js';
import type { DeviceStatus, RejectedEvent, StoredEvent } from './store/port.js';

// What the registry knows about one device at verification time: its status and every key it has
// enrolled (history included, so events signed before a re-provision still verify).
export interface KeyView {
  status: DeviceStatus;
  keys: ReadonlyMap<string, KeyObject>; // keyId (derived from the key) → parsed ed25519 public key
}

export type KeyLookup = (fleet: string, deviceId: string) => KeyView | undefined;

export type Classified = { ok: true; row: StoredEvent } | { ok: false; rejected: RejectedEvent };

// Parses one envelope and verifies its signature against the enrolled key before anything is stored:
// malformed → EVENT_INVALID, no enrolled device or key → DEVICE_UNKNOWN (re-verified after a late
// enrolment), decommissioned → DEVICE_DECOMMISSIONED, bad signature → SIGNATURE_INVALID. Pure.
// `topic`, when the event came over MQTT: the fleet and device levels it was published under, which
// must match the signed event (the broker ACL confines a device to its own topics).
export function classifyEnvelope(raw: string, receivedAt: Date, lookup: KeyLookup, topic?: { fleet: string; deviceId: string }): Classified {
  const at = receivedAt.toISOString();
  let header: Pick<RejectedEvent, 'fleet' | 'deviceId' | 'keyId' | 'seq'> = {};
  try {
    const env = parseEnvelope(raw);
    const { fleet, deviceId, seq } = env.event;
    header = { fleet, deviceId, keyId: env.sig.keyid, seq };
    if (topic && (topic.fleet !== fleet || topic.deviceId !== deviceId)) {
      throw new EdgesealError('EVENT_INVALID', `event ${fleet}/${deviceId} #${seq}: expected under topic ${fleet}/${deviceId}, found under ${topic.fleet}/${topic.deviceId}`);
    }
    const view = lookup(fleet, deviceId);
    if (!view) throw new EdgesealError('DEVICE_UNKNOWN', `${fleet}/${deviceId}: expected an enrolled device, found none`);
    if (view.status === 'decommissioned') throw new EdgesealError('DEVICE_DECOMMISSIONED', `${fleet}/${deviceId}: device is decommissioned`);
    const key = view.keys.get(env.sig.keyid);
    if (!key) throw new EdgesealError('DEVICE_UNKNOWN', `${fleet}/${deviceId}: expected one of the enrolled keys ${[...view.keys.keys()].map((k) => k.slice(0, 12)).join(',')}, found keyid ${env.sig.keyid.slice(0, 12)}`);
    // The signed bytes once, for the signature and the digest (canonicalize refuses floats: malformed).
    const e = env.event;
    const signed = Buffer.from(canonicalize(e), 'utf8');
    if (!verify(null, signed, key, Buffer.from(env.sig.value, 'hex'))) throw new EdgesealError('SIGNATURE_INVALID', `event seq ${seq} from ${deviceId}: ed25519 signature does not verify`);
    const digest = createHash('sha256').update(signed).digest('hex');
    return {
      ok: true,
      row: { fleet, deviceId, keyId: env.sig.keyid, seq, deviceTime: new Date(e.time).toISOString(), receivedAt: at, type: e.type, verdict: e.verdict, code: e.code, digest, raw },
    };
  } catch (err) {
    const e = asEdgesealError(err, 'EVENT_INVALID');
    return { ok: false, rejected: { receivedAt: at, reason: e.code, message: e.message, ...header, raw } };
  }
}
