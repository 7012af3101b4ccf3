import mqtt, { type MqttClient } from 'mqtt';
import { parseEnvelope, verifyEnvelope, type SignedEnvelope } from '../telemetry/envelope.js';
import { fleetFilter } from '../telemetry/topics.js';

// The demo's fleet side: subscribes to one device's events on the broker and checks each signature.
export interface FleetTap {
  // envelopes received so far, first delivery of each seq only (QoS 1 may repeat), in seq order
  events(): SignedEnvelope[];
  verifyAll(publicKeyHex: string): number; // how many verified; throws on a forged one
  close(): Promise<void>;
}

export async function tapFleet(url: string, prefix: string, fleet: string, deviceId: string): Promise<FleetTap> {
  const client: MqttClient = await mqtt.connectAsync(url, { reconnectPeriod: 200 });
  const bySeq = new Map<number, SignedEnvelope>();
  client.on('message', (topic, payload) => {
    if (!/\/(event|metrics)$/.test(topic)) return;
    const env = parseEnvelope(payload);
    if (!bySeq.has(env.event.seq)) bySeq.set(env.event.seq, env);
  });
  await client.subscribeAsync(fleetFilter(prefix, fleet, deviceId), { qos: 1 });
  const events = (): SignedEnvelope[] => [...bySeq.values()].sort((a, b) => a.event.seq - b.event.seq);
  return {
    events,
    verifyAll: (hex) => {
      const key = Buffer.from(hex, 'hex');
      for (const env of events()) verifyEnvelope(env, key);
      return bySeq.size;
    },
    close: () => client.endAsync(true),
  };
}
