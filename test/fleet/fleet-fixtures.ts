import { createEventSigner, encodeEnvelope, type EventSigner } from '../../src/telemetry/envelope.js';
import { assertEvent, buildEvent, type EventInput } from '../../src/telemetry/event.js';
import type { Enrollment } from '../../src/fleet/enrollment.js';

// A simulated device with a real report key (seed derived from a number) that signs real events.
export interface SimDevice {
  readonly signer: EventSigner;
  readonly enrollment: Enrollment;
  envelope(seq: number, input?: Partial<EventInput>, time?: Date): string;
  // the same event as a schema 1 device (before the v2 fields) signed it: header schema 1, same signing
  v1envelope(seq: number, input?: Partial<EventInput>, time?: Date): string;
}

export const seedOf = (n: number): Uint8Array => Uint8Array.from({ length: 32 }, (_, i) => (n * 31 + i * 7) & 0xff);

function withKey(n: number, fleet: string, hardwareId: string, deviceId?: string): SimDevice {
  const signer = createEventSigner(seedOf(n));
  const id = deviceId ?? `${hardwareId}-${signer.keyid.slice(0, 12)}`;
  return {
    signer,
    enrollment: { fleet, deviceId: id, hardwareId, publicKey: Buffer.from(signer.publicKey).toString('hex'), keyId: signer.keyid },
    envelope(seq, input = {}, time = new Date(Date.UTC(2026, 0, 1) + seq * 1000)) {
      const event = buildEvent({ type: 'update-check', verdict: 'ok', ...input }, { deviceId: id, fleet, seq, now: time });
      return Buffer.from(encodeEnvelope(signer.sign(event))).toString('utf8');
    },
    v1envelope(seq, input = {}, time = new Date(Date.UTC(2026, 0, 1) + seq * 1000)) {
      const event = { ...buildEvent({ type: 'update-check', verdict: 'ok', ...input }, { deviceId: id, fleet, seq, now: time }), schema: 1 };
      assertEvent(event); // refuses schema 2 fields under schema 1, so a fixture cannot claim v1 wrongly
      return Buffer.from(encodeEnvelope(signer.sign(event))).toString('utf8');
    },
  };
}

export const simDevice = (n: number, fleet = 'f1', hardwareId = 'hw-a'): SimDevice => withKey(n, fleet, hardwareId);

// The same device id re-provisioned: a new report key (seed n) under the old id.
export const reprovisioned = (d: SimDevice, n: number): SimDevice => withKey(n, d.enrollment.fleet, d.enrollment.hardwareId, d.enrollment.deviceId);
