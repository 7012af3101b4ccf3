import mqtt, { type MqttClient } from 'mqtt';
import { asEdgesealError, type EdgesealError } from '../core/errors.js';
import { markCovers, markHighest, verifyAckMark } from './ack-mark.js';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.js';
import { clientOptions, type BrokerConfig } from './broker-connect.js';
import { classifyBrokerError } from './broker-error.js';
import type { Outbox } from './outbox/outbox.js';
import type { StoredEntry } from './outbox/store.js';
import type { DeviceTopics } from './topics.js';

export type PublisherState = 'connecting' | 'connected' | 'disconnected' | 'stopped';

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface PublisherDeps {
  broker: BrokerConfig;
  topics: DeviceTopics;
  outbox: Outbox;
  clientId: string;
  window?: number; // QoS 1 messages in flight at once
  backoff?: BackoffPolicy;
  timers?: Timers;
  random?: () => number;
  // Adapters report; the agent decides what to log. `error` is set on every failed connection.
  onState?: (state: PublisherState, error?: EdgesealError) => void;
  onCommand?: (payload: Uint8Array) => void;
  // telemetry.ack "collector": forget an entry only when the collector's signed ack mark covers it.
  collectorAck?: { collectorKey: Uint8Array; fleet: string; deviceId: string; reportKeyId: string };
  onMarkRejected?: (error: EdgesealError) => void;
}

const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

// The retained status; `install`: the progress of the install in flight (or last finished), while online.
const statusPayload = (state: 'online' | 'offline', clientId: string, install?: InstallProgress) => JSON.stringify({ state, clientId, ...(install ? { install } : {}) });

// What the status topic says about a long install: phase, bytes, whole percent, rate, when.
export interface InstallProgress {
  readonly phase: string;
  readonly target: string;
  readonly done: number;
  readonly total: number;
  readonly percent: number;
  readonly bytesPerSecond: number;
  readonly at: string; // ISO time of this figure
}

// Drains the outbox to the broker with QoS 1, oldest first, deleting each entry on its PUBACK, or, in
// collector-ack mode, once the collector's signed ack mark covers it (entries the mark shows missing
// below its highest seq are sent again).
// Each connection is a fresh mqtt.js client: after a drop, everything still in the outbox is sent again
// in order from the head (duplicates are what QoS 1 allows; consumers dedupe by seq).
export class MqttPublisher {
  private client: MqttClient | undefined;
  private generation = 0;
  private attempt = 0;
  private sentUpTo = 0;
  private readonly inflight = new Set<number>();
  private timer: unknown;
  private stopping = false;
  private unsubscribe: (() => void) | undefined;
  private install: InstallProgress | undefined;
  state: PublisherState = 'disconnected';
  lastError: EdgesealError | undefined;

  constructor(private readonly deps: PublisherDeps) {}

  start(): void {
    this.unsubscribe = this.deps.outbox.onAppend(() => this.pump());
    void this.connect();
  }

  private setState(state: PublisherState, error?: EdgesealError): void {
    this.state = state;
    if (error) this.lastError = error;
    this.deps.onState?.(state, error);
  }

  private async connect(): Promise<void> {
    const gen = ++this.generation;
    this.setState('connecting');
    let opts;
    try {
      opts = await clientOptions(this.deps.broker);
    } catch (err) {
      return this.retry(gen, classifyBrokerError(err, this.deps.broker.url));
    }
    if (this.stopping || gen !== this.generation) return;
    const will = { topic: this.deps.topics.status, payload: Buffer.from(statusPayload('offline', this.deps.clientId)), qos: 1 as const, retain: true };
    // writeCache: false, or mqtt-packet pre-builds 65,536 two-byte Buffers for packet ids at the first
    // packet (~6.5 MiB of V8 heap kept for good); a device publishes a few packets a minute (docs/memory.md)
    const client = mqtt.connect(this.deps.broker.url, { ...opts, clientId: this.deps.clientId, will, writeCache: false });
    this.client = client;
    let failure: unknown;
    client.on('error', (err) => (failure ??= err));
    client.on('message', (topic, payload) => {
      if (topic === this.deps.topics.cmd) this.deps.onCommand?.(payload);
      if (topic === this.deps.topics.ack) void this.onMark(payload);
    });
    client.on('connect', () => {
      if (gen !== this.generation) return;
      failure = undefined;
      this.attempt = 0;
      this.sentUpTo = 0;
      this.inflight.clear();
      // a clean session drops commands published before the SUBACK: "connected" means commands reach us;
      // a refused subscription still lets events flow (commands are nudges only)
      const topics = [this.deps.topics.cmd, ...(this.deps.collectorAck ? [this.deps.topics.ack] : [])];
      client.subscribe(topics, { qos: 1 }, () => {
        if (gen !== this.generation) return;
        this.setState('connected');
        client.publish(this.deps.topics.status, statusPayload('online', this.deps.clientId, this.install), { qos: 1, retain: true });
        this.pump();
      });
    });
    client.on('close', () => {
      if (gen !== this.generation || this.stopping) return;
      this.retry(gen, classifyBrokerError(failure ?? new Error('connection closed'), this.deps.broker.url));
      client.end(true);
    });
  }

  private retry(gen: number, error: EdgesealError): void {
    if (gen !== this.generation || this.stopping) return;
    this.generation += 1; // late callbacks of the dead connection are ignored from here on
    this.setState('disconnected', error);
    const delay = backoffDelay(this.attempt++, this.deps.backoff ?? DEFAULT_BACKOFF, this.deps.random ?? Math.random);
    this.timer = (this.deps.timers ?? realTimers).setTimeout(() => void this.connect(), delay);
  }

  // Sends the next entries after the last one sent on this connection, up to the in-flight window.
  private pump(): void {
    const client = this.client;
    if (this.state !== 'connected' || this.stopping || !client) return;
    const gen = this.generation;
    const room = (this.deps.window ?? 32) - this.inflight.size;
    if (room <= 0) return;
    for (const entry of this.deps.outbox.pending(this.sentUpTo, room)) {
      this.sentUpTo = entry.seq;
      this.send(client, gen, entry);
    }
  }

  private send(client: MqttClient, gen: number, entry: StoredEntry): void {
    this.inflight.add(entry.seq);
    const topic = entry.channel === 'metrics' ? this.deps.topics.metrics : this.deps.topics.event;
    client.publish(topic, Buffer.from(entry.bytes), { qos: 1 }, (err) => {
      if (gen !== this.generation || err) return;
      this.inflight.delete(entry.seq);
      // In collector mode the broker's PUBACK frees a window slot only; the entry waits for the mark.
      const forget = this.deps.collectorAck ? Promise.resolve() : this.deps.outbox.remove(entry.seq);
      forget.then(
        () => this.pump(),
        // The entry stays queued and is resent on the next connection; the outbox counts the error.
        () => undefined,
      );
    });
  }

  // A mark that does not verify is ignored (and reported): only the collector may free the outbox.
  private async onMark(payload: Uint8Array): Promise<void> {
    const ack = this.deps.collectorAck;
    if (!ack) return;
    try {
      const mark = verifyAckMark(payload, ack.collectorKey, { fleet: ack.fleet, deviceId: ack.deviceId, keyId: ack.reportKeyId });
      const queued = this.deps.outbox.pending();
      for (const e of queued) if (markCovers(mark, e.seq)) await this.deps.outbox.remove(e.seq);
      const client = this.client;
      if (!client || this.state !== 'connected') return;
      const missing = queued.filter((e) => e.seq < markHighest(mark) && e.seq <= this.sentUpTo && !markCovers(mark, e.seq) && !this.inflight.has(e.seq));
      for (const e of missing) this.send(client, this.generation, e);
    } catch (err) {
      this.deps.onMarkRejected?.(asEdgesealError(err));
    }
  }

  // Puts install progress into the retained status now (when connected) and on every reconnect.
  setInstallProgress(progress: InstallProgress): void {
    this.install = progress;
    if (this.state === 'connected' && !this.stopping) this.client?.publish(this.deps.topics.status, statusPayload('online', this.deps.clientId, progress), { qos: 1, retain: true });
  }

  // Publishes the retained `offline` status (a clean disconnect suppresses the will) and disconnects.
  async stop(): Promise<void> {
    this.stopping = true;
    this.unsubscribe?.();
    if (this.timer !== undefined) (this.deps.timers ?? realTimers).clearTimeout(this.timer);
    const client = this.client;
    if (client?.connected) {
      await client.publishAsync(this.deps.topics.status, statusPayload('offline', this.deps.clientId), { qos: 1, retain: true }).catch(() => undefined);
      await client.endAsync().catch(() => undefined);
    } else client?.end(true);
    this.setState('stopped');
  }
}
