import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { asEdgesealError, type EdgesealError } from '../../core/errors.js';
import { signAckMark, MAX_RANGES } from '../../telemetry/ack-mark.js';
import { clientOptions } from '../../telemetry/broker-connect.js';
import { ingestBatch, type IngestResult } from '../ingest.js';
import { keyLookupFrom } from '../registry.js';
import type { FleetStore, StoredEvent } from '../store/port.js';
import type { StatusMessage } from '../inventory.js';
import type { KeyLookup } from '../verify-event.js';
import type { CollectorKey } from './collector-key.js';
import type { CollectorConfig } from './config.js';

export interface CollectorStats {
  stored: number;
  duplicates: number;
  rejected: number;
  conflicts: number;
  storageErrors: number;
}

export interface CollectorDeps {
  config: CollectorConfig;
  store: FleetStore;
  key: CollectorKey;
  clock?: () => Date;
  onError?: (err: EdgesealError) => void;
  onConflict?: (c: { fleet: string; deviceId: string; seq: number }) => void;
}

// The device's status payload is {"state":"online"|"offline",…}; anything else is shown as "unknown".
function statusState(message: Buffer): string {
  try {
    const state = (JSON.parse(message.toString('utf8')) as { state?: unknown }).state;
    return state === 'online' || state === 'offline' ? state : 'unknown';
  } catch {
    return 'unknown';
  }
}

const REGISTRY_RELOAD_MS = 2000; // an unknown device triggers a registry reload at most this often
const RECONNECT_MS = 1000;

// The point of acknowledgement between devices and the database. One persistent MQTT 5 session
// (fixed client id, session expiry > 0, QoS 1): while the collector is away the broker queues for it.
// Each message is verified and committed before its PUBACK (mqtt.js customHandleAcks), so a crash
// before the commit means the broker delivers it again. After the commit the collector publishes,
// retained, the signed ack mark of that device key: the stored seq ranges the device may forget.
export class Collector {
  readonly stats: CollectorStats = { stored: 0, duplicates: 0, rejected: 0, conflicts: 0, storageErrors: 0 };
  // Last retained status / last-will per device: unsigned, so only ever shown as unauthenticated.
  readonly statuses = new Map<string, StatusMessage>();
  private client: MqttClient | undefined;
  private lookup: KeyLookup = () => undefined;
  private loadedAt = 0;

  constructor(private readonly deps: CollectorDeps) {}

  private now(): Date {
    return (this.deps.clock ?? (() => new Date()))();
  }

  async start(): Promise<void> {
    await this.reloadRegistry();
    const { config } = this.deps;
    const opts: IClientOptions = {
      ...(await clientOptions(config.broker)),
      protocolVersion: 5,
      clean: false,
      clientId: config.clientId,
      properties: { sessionExpiryInterval: config.sessionExpirySeconds },
      reconnectPeriod: RECONNECT_MS,
      customHandleAcks: (topic, message, _packet, done) => void this.handle(topic, message, done),
    };
    const client = mqtt.connect(config.broker.url, opts);
    this.client = client;
    client.on('error', (err) => this.deps.onError?.(asEdgesealError(err, 'BROKER_UNREACHABLE')));
    client.on('connect', () => {
      const share = config.shareGroup === undefined ? '' : `$share/${config.shareGroup}/`;
      // Retained status is per device, not work to split: every collector reads all of it.
      const filters = config.fleets.flatMap((f) => [`${share}${config.prefix}/${f}/+/event`, `${share}${config.prefix}/${f}/+/metrics`, `${config.prefix}/${f}/+/status`]);
      client.subscribe(filters, { qos: 1 }, (err) => err && this.deps.onError?.(asEdgesealError(err, 'BROKER_REJECTED')));
    });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
  }

  private async reloadRegistry(): Promise<void> {
    this.lookup = keyLookupFrom(await this.deps.store.devices());
    this.loadedAt = this.now().getTime();
  }

  private topicScope(topic: string): { fleet: string; deviceId: string } | undefined {
    const levels = topic.slice(this.deps.config.prefix.length + 1).split('/'); // brokers deliver shared messages under the plain topic
    return levels.length === 3 && levels[0] && levels[1] ? { fleet: levels[0], deviceId: levels[1] } : undefined;
  }

  // Commits, then acknowledges. On a storage error no PUBACK is sent: the connection is dropped so
  // that the broker delivers the message again on the next session resume.
  private async handle(topic: string, message: Buffer, done: (error: Error | number) => void): Promise<void> {
    const scope = this.topicScope(topic);
    if (topic.endsWith('/status')) {
      if (scope) this.statuses.set(`${scope.fleet}/${scope.deviceId}`, { state: statusState(message), at: this.now().getTime() });
      done(0);
      return;
    }
    let r: IngestResult;
    try {
      const msg = { raw: message.toString('utf8'), receivedAt: this.now(), topic: scope ?? { fleet: '', deviceId: '' } };
      if (scope && !this.lookup(scope.fleet, scope.deviceId) && this.now().getTime() - this.loadedAt > REGISTRY_RELOAD_MS) await this.reloadRegistry();
      r = await ingestBatch(this.deps.store, this.lookup, [msg]);
      this.stats.stored += r.inserted;
      this.stats.duplicates += r.duplicates;
      this.stats.rejected += r.rejected;
      this.stats.conflicts += r.conflicts.length;
      for (const c of r.conflicts) this.deps.onConflict?.(c);
      done(0);
    } catch (err) {
      this.stats.storageErrors += 1;
      this.deps.onError?.(asEdgesealError(err, 'STORAGE_ERROR'));
      // Closing without PUBACK: the broker keeps the message in the session and resends it.
      this.client?.stream.destroy();
      return;
    }
    // After the PUBACK: a lost mark only delays the device's cleanup; the next one supersedes it.
    for (const e of r.verified) await this.publishMark(e).catch((err: unknown) => this.deps.onError?.(asEdgesealError(err, 'BROKER_UNREACHABLE')));
  }

  private async publishMark(e: StoredEvent): Promise<void> {
    const ranges = await this.deps.store.storedRanges(e.fleet, e.deviceId, e.keyId, MAX_RANGES);
    const signed = signAckMark({ fleet: e.fleet, deviceId: e.deviceId, keyId: e.keyId, ranges, time: this.now().toISOString() }, this.deps.key);
    await this.client?.publishAsync(`${this.deps.config.prefix}/${e.fleet}/${e.deviceId}/ack`, JSON.stringify(signed), { qos: 1, retain: true });
  }

  async stop(): Promise<void> {
    await this.client?.endAsync();
  }
}
