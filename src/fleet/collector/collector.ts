import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { asEdgesealError, EdgesealError } from '../../core/errors.js';
import { clientOptions } from '../../telemetry/broker-connect.js';
import { storeClassified, type IngestResult } from '../ingest.js';
import { keyLookupFrom } from '../registry.js';
import type { FleetStore } from '../store/port.js';
import type { StatusMessage } from '../inventory.js';
import type { Classified, KeyLookup } from '../verify-event.js';
import type { CollectorKey } from './collector-key.js';
import type { CollectorConfig } from './config.js';
import { GroupCommit } from './group-commit.js';
import { MarkPublisher } from './mark-publisher.js';
import { VerifyPool, verifyWorkerCount } from './verify-pool.js';

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
const MAX_BATCH = 1000; // rows per commit; bounds one transaction whatever the number of sessions
const RECEIVE_MAXIMUM = 2; // one event being committed, the next already read
const PG_COMMITS = 3; // commits in flight on PostgreSQL: the pool has 4 connections, one stays for reads

// The MQTT client id of session i: session 0 keeps the configured id, so a single-session collector
// (and its queued session) carries over unchanged when sessions are added.
export const sessionClientId = (clientId: string, i: number): string => (i === 0 ? clientId : `${clientId}-${i}`);

// The point of acknowledgement between devices and the database. `sessions` persistent MQTT 5
// sessions (fixed client ids, session expiry > 0, QoS 1) on one shared subscription: while the
// collector is away the broker queues for each of them. mqtt.js handles one incoming packet per
// session at a time and holds it until its PUBACK (customHandleAcks), so each session has one event in
// flight; the events of all sessions meet in one group commit, and each session's PUBACK is sent
// after the commit holding its event. A crash before the commit means the broker delivers it again.
// After the commit the collector publishes, retained, the signed ack mark of each device key stored.
export class Collector {
  readonly stats: CollectorStats = { stored: 0, duplicates: 0, rejected: 0, conflicts: 0, storageErrors: 0 };
  // Last retained status / last-will per device: unsigned, so only ever shown as unauthenticated.
  readonly statuses = new Map<string, StatusMessage>();
  private clients: MqttClient[] = [];
  private marksClient: MqttClient | undefined;
  private lookup: KeyLookup = () => undefined;
  private loadedAt = 0;
  private reloading: Promise<void> | undefined;
  private readonly batcher: GroupCommit<Classified, IngestResult>;
  private readonly marks: MarkPublisher;
  private verifier: VerifyPool | undefined;

  constructor(private readonly deps: CollectorDeps) {
    this.batcher = new GroupCommit((items) => this.commit(items), MAX_BATCH, deps.store.kind === 'postgres' ? PG_COMMITS : 1);
    const publish = async (topic: string, payload: string): Promise<void> => {
      await this.marksClient?.publishAsync(topic, payload, { qos: 1, retain: true });
    };
    const onError = (err: unknown): void => this.deps.onError?.(asEdgesealError(err, 'BROKER_UNREACHABLE'));
    this.marks = new MarkPublisher(deps.store, deps.key, deps.config.prefix, publish, () => this.now(), onError);
  }

  private now(): Date {
    return (this.deps.clock ?? (() => new Date()))();
  }

  async start(): Promise<void> {
    await this.reloadRegistry();
    const { config } = this.deps;
    // Marks go out on a connection of their own: a session's PUBACKs from the broker would queue
    // behind the event that session holds until its commit.
    this.marksClient = await mqtt.connectAsync(config.broker.url, { ...(await clientOptions(config.broker)), protocolVersion: 5, clientId: `${config.clientId}-marks`, reconnectPeriod: RECONNECT_MS });
    this.marksClient.on('error', (err) => this.deps.onError?.(asEdgesealError(err, 'BROKER_UNREACHABLE')));
    const n = config.sessions ?? 1;
    await Promise.all(Array.from({ length: n }, (_, i) => this.connect(i, n)));
  }

  private async connect(i: number, n: number): Promise<void> {
    const { config } = this.deps;
    const opts: IClientOptions = {
      ...(await clientOptions(config.broker)),
      protocolVersion: 5,
      clean: false,
      clientId: sessionClientId(config.clientId, i),
      // Receive Maximum: the broker sends a session at most this many unacknowledged events. mqtt.js
      // handles one at a time, and a PINGRESP queued behind a deep backlog (after an outage) would
      // time the keepalive out and drop the session again and again.
      properties: { sessionExpiryInterval: config.sessionExpirySeconds, receiveMaximum: RECEIVE_MAXIMUM },
      reconnectPeriod: RECONNECT_MS,
      customHandleAcks: (topic, message, _packet, done) => void this.handle(client, topic, message, done),
    };
    const client = mqtt.connect(config.broker.url, opts);
    this.clients[i] = client;
    client.on('error', (err) => this.deps.onError?.(asEdgesealError(err, 'BROKER_UNREACHABLE')));
    const group = config.shareGroup ?? (n > 1 ? config.clientId : undefined);
    client.on('connect', () => {
      const work = (share: string): string[] => config.fleets.flatMap((f) => [`${share}${config.prefix}/${f}/+/event`, `${share}${config.prefix}/${f}/+/metrics`]);
      const shared = group === undefined ? '' : `$share/${group}/`;
      // Retained status is per device, not work to split: session 0 reads all of it.
      const filters = [...work(shared), ...(i === 0 ? config.fleets.map((f) => `${config.prefix}/${f}/+/status`) : [])];
      // A resumed session keeps the subscriptions of its previous run: drop the other form, or a
      // session that changed from plain to shared would receive everything twice.
      if (group !== undefined) client.unsubscribe(work(''));
      client.subscribe(filters, { qos: 1 }, (err) => err && this.deps.onError?.(asEdgesealError(err, 'BROKER_REJECTED')));
    });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
  }

  private async reloadRegistry(): Promise<void> {
    this.reloading ??= (async () => {
      const devices = await this.deps.store.devices();
      this.lookup = keyLookupFrom(devices);
      if (this.verifier) this.verifier.setRegistry(devices);
      else this.verifier = new VerifyPool(verifyWorkerCount(), devices);
      this.loadedAt = this.now().getTime();
    })().finally(() => (this.reloading = undefined));
    await this.reloading;
  }

  private topicScope(topic: string): { fleet: string; deviceId: string } | undefined {
    const levels = topic.slice(this.deps.config.prefix.length + 1).split('/'); // brokers deliver shared messages under the plain topic
    return levels.length === 3 && levels[0] && levels[1] ? { fleet: levels[0], deviceId: levels[1] } : undefined;
  }

  // One commit for every event in flight on every session; counts once per batch.
  private async commit(items: Classified[]): Promise<IngestResult> {
    const r = await storeClassified(this.deps.store, items);
    this.stats.stored += r.inserted;
    this.stats.duplicates += r.duplicates;
    this.stats.rejected += r.rejected;
    this.stats.conflicts += r.conflicts.length;
    for (const c of r.conflicts) this.deps.onConflict?.(c);
    this.marks.want(r.verified);
    return r;
  }

  // Verifies, waits for the commit holding this event, then acknowledges. On a storage error no
  // PUBACK is sent: the session's connection is dropped so that the broker delivers it again.
  private async handle(client: MqttClient, topic: string, message: Buffer, done: (error: Error | number) => void): Promise<void> {
    const scope = this.topicScope(topic);
    if (topic.endsWith('/status')) {
      if (scope) this.statuses.set(`${scope.fleet}/${scope.deviceId}`, { state: statusState(message), at: this.now().getTime() });
      done(0);
      return;
    }
    try {
      if (scope && !this.lookup(scope.fleet, scope.deviceId) && this.now().getTime() - this.loadedAt > REGISTRY_RELOAD_MS) await this.reloadRegistry();
      if (!this.verifier) throw new EdgesealError('INTERNAL', 'collector: expected start() before the first event, found none');
      const classified = await this.verifier.classify({ raw: message.toString('utf8'), receivedAt: this.now().getTime(), topic: scope ?? { fleet: '', deviceId: '' } });
      await this.batcher.add(classified);
    } catch (err) {
      this.stats.storageErrors += 1;
      this.deps.onError?.(asEdgesealError(err, 'STORAGE_ERROR'));
      // Closing without PUBACK: the broker keeps the message in the session and resends it.
      client.stream.destroy();
      return;
    }
    done(0);
  }

  async stop(): Promise<void> {
    this.marks.stop();
    await Promise.all([...this.clients, ...(this.marksClient ? [this.marksClient] : [])].map((c) => c.endAsync()));
    await this.verifier?.close();
  }
}
