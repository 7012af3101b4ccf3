import mqtt, { type MqttClient } from 'mqtt';
import { parseEnvelope, type SignedEnvelope } from '../../src/telemetry/envelope.js';

export interface Received {
  topic: string;
  payload: Buffer;
  retain: boolean;
}

// A fleet-side test subscriber: collects every message under a filter and waits for conditions.
export class FleetWatch {
  readonly messages: Received[] = [];
  private constructor(readonly client: MqttClient) {}

  static async open(url: string, filter: string, opts: mqtt.IClientOptions = {}): Promise<FleetWatch> {
    const client = await mqtt.connectAsync(url, { reconnectPeriod: 200, ...opts });
    const watch = new FleetWatch(client);
    client.on('message', (topic, payload, packet) => watch.messages.push({ topic, payload, retain: packet.retain }));
    await client.subscribeAsync(filter, { qos: 1 });
    return watch;
  }

  // Signed envelopes on event/metrics topics, first delivery of each seq only (QoS 1 may duplicate).
  envelopes(): SignedEnvelope[] {
    const seen = new Set<number>();
    const out: SignedEnvelope[] = [];
    for (const m of this.messages) {
      if (!/\/(event|metrics)$/.test(m.topic)) continue;
      const env = parseEnvelope(m.payload);
      if (seen.has(env.event.seq)) continue;
      seen.add(env.event.seq);
      out.push(env);
    }
    return out;
  }

  statuses(): string[] {
    return this.messages.filter((m) => m.topic.endsWith('/status')).map((m) => (JSON.parse(m.payload.toString()) as { state: string }).state);
  }

  async waitFor(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; got ${this.messages.length} messages`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}
