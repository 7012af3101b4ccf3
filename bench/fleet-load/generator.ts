import mqtt, { type MqttClient } from 'mqtt';
import { createHash } from 'node:crypto';
import type { Enrollment } from '../../src/fleet/enrollment.js';
import type { SignedAckMark } from '../../src/telemetry/ack-mark.js';
import { createEventSigner, encodeEnvelope } from '../../src/telemetry/envelope.js';
import { buildEvent } from '../../src/telemetry/event.js';

export const FLEET = 'load';
export const PREFIX = 'edgeseal';
const PUBLISHERS = 4; // connections the generator spreads its devices over (the broker does not care)
const TICK_MS = 10;

// N simulated devices with real report keys and real signed events, signed before the clock starts
// (a device signs as it goes; the collector's cost is what is measured). Published at a fixed offered
// rate, QoS 1, through the broker. The generator also plays the devices' side of the acknowledgement:
// it reads the collector's ack marks and takes publish → covered-by-a-mark as the latency a device
// sees (an upper bound of publish → stored: the mark is published after the commit).
export class LoadGenerator {
  readonly enrollments: Enrollment[];
  private readonly payloads: Buffer[]; // [device * events + seq - 1], in publishing order per device
  private readonly sentAt: Float64Array;
  private readonly coveredLow: Int32Array; // per device: every seq below this is covered
  private readonly covered: Uint8Array;
  readonly latencies: number[] = [];
  private publishers: MqttClient[] = [];
  private marks: MqttClient | undefined;
  published = 0;

  constructor(readonly devices: number, readonly events: number) {
    this.enrollments = [];
    this.payloads = new Array<Buffer>(devices * events);
    for (let d = 0; d < devices; d++) {
      const signer = createEventSigner(createHash('sha256').update(`load-device-${d}`).digest());
      const deviceId = `dev-${d}`;
      this.enrollments.push({ fleet: FLEET, deviceId, hardwareId: 'hw-load', publicKey: Buffer.from(signer.publicKey).toString('hex'), keyId: signer.keyid });
      for (let s = 1; s <= events; s++) {
        const event = buildEvent({ type: 'boot-verification', verdict: 'ok', latencyMs: 40 }, { deviceId, fleet: FLEET, seq: s, now: new Date() });
        this.payloads[d * events + s - 1] = Buffer.from(encodeEnvelope(signer.sign(event)));
      }
    }
    this.sentAt = new Float64Array(devices * events);
    this.covered = new Uint8Array(devices * events);
    this.coveredLow = new Int32Array(devices).fill(1);
  }

  get total(): number {
    return this.devices * this.events;
  }

  async connect(url: string): Promise<void> {
    this.publishers = await Promise.all(Array.from({ length: PUBLISHERS }, () => mqtt.connectAsync(url, { reconnectPeriod: 200 })));
    this.marks = await mqtt.connectAsync(url, { reconnectPeriod: 200 });
    this.marks.on('message', (_t, payload) => this.onMark(payload));
    await this.marks.subscribeAsync(`${PREFIX}/${FLEET}/+/ack`, { qos: 0 });
  }

  private onMark(payload: Buffer): void {
    const now = performance.now();
    const { mark } = JSON.parse(payload.toString('utf8')) as SignedAckMark;
    const d = Number(mark.deviceId.slice(4));
    if (!(d >= 0 && d < this.devices)) return;
    for (const [a, b] of mark.ranges) {
      for (let s = Math.max(a, this.coveredLow[d] ?? 1); s <= Math.min(b, this.events); s++) {
        const i = d * this.events + s - 1;
        if (this.covered[i] || !this.sentAt[i]) continue;
        this.covered[i] = 1;
        this.latencies.push(now - (this.sentAt[i] ?? now));
      }
    }
    while ((this.coveredLow[d] ?? 0) <= this.events && this.covered[d * this.events + (this.coveredLow[d] ?? 1) - 1]) this.coveredLow[d] = (this.coveredLow[d] ?? 0) + 1;
  }

  // Publishes every event at `ratePerS` (seq-major: all devices' seq 1, then seq 2, …); resolves
  // when the broker acknowledged all of them.
  async run(ratePerS: number): Promise<void> {
    const perTick = Math.max(1, Math.round((ratePerS * TICK_MS) / 1000));
    const acks: Promise<unknown>[] = [];
    const t0 = performance.now();
    for (let n = 0; n < this.total; ) {
      const due = Math.min(this.total, Math.floor(((performance.now() - t0) / TICK_MS + 1) * perTick));
      for (; n < due; n++) {
        const d = n % this.devices;
        const s = Math.floor(n / this.devices) + 1;
        const i = d * this.events + s - 1;
        this.sentAt[i] = performance.now();
        const pub = this.publishers[d % PUBLISHERS];
        const payload = this.payloads[i];
        if (pub && payload) acks.push(pub.publishAsync(`${PREFIX}/${FLEET}/dev-${d}/event`, payload, { qos: 1 }));
        this.published = n + 1;
      }
      await new Promise((r) => setTimeout(r, TICK_MS));
    }
    await Promise.all(acks);
  }

  async stop(): Promise<void> {
    await Promise.all([...this.publishers, ...(this.marks ? [this.marks] : [])].map((c) => c.endAsync()));
  }
}
