import { join } from 'node:path';
import type { EdgesealError } from '../core/errors.js';
import type { BackoffPolicy } from './backoff.js';
import { clientOptions, type BrokerConfig } from './broker-connect.js';
import type { FleetCommand } from './command.js';
import { createEventSigner } from './envelope.js';
import { scheduleMetrics, DEFAULT_METRICS_CRON } from './metrics-schedule.js';
import { DiskOutboxStore } from './outbox/disk-store.js';
import type { Limits } from './outbox/drop-policy.js';
import { Outbox, DEFAULT_LIMITS } from './outbox/outbox.js';
import { MqttPublisher, type PublisherState, type Timers } from './publisher.js';
import { TelemetryReporter, type DeviceReport } from './reporter.js';
import { DEFAULT_PREFIX, deviceTopics } from './topics.js';

export interface TelemetryConfig {
  deviceId: string;
  fleet: string;
  prefix?: string;
  broker?: BrokerConfig; // absent: nothing is published; events wait in the outbox until one is configured
  stateDir: string; // the outbox lives in <stateDir>/outbox
  limits?: Limits;
  metricsCron?: string | null; // null disables the periodic metrics message
  collectorKey?: Uint8Array; // telemetry.ack "collector": entries wait for this key's ack mark
}

export interface TelemetryDeps {
  seed: Uint8Array; // device report key seed, unsealed from the TPM by the trust layer
  clock?: () => Date;
  backoff?: BackoffPolicy;
  timers?: Timers;
  onState?: (state: PublisherState, error?: EdgesealError) => void;
  onCommand?: (cmd: FleetCommand) => void;
  onError?: (err: unknown) => void;
  facts?: () => Promise<DeviceReport>; // inventory facts for the periodic metrics event
}

export interface TelemetryService {
  reporter: TelemetryReporter;
  publisher: MqttPublisher | undefined; // none without a broker
  outbox: Outbox;
  brokerUrl: string | undefined;
  stop(): Promise<void>;
}

// Composition of the telemetry pieces for the agent: disk outbox → signed reporter → MQTT publisher.
// Without a broker there is no publisher: events are never acknowledged into nothing, they stay in the
// durable outbox (bounded by its drop policy, counted by `edgeseal status`) until a broker is configured.
export async function startTelemetry(cfg: TelemetryConfig, deps: TelemetryDeps): Promise<TelemetryService> {
  const topics = deviceTopics({ prefix: cfg.prefix ?? DEFAULT_PREFIX, fleet: cfg.fleet, deviceId: cfg.deviceId });
  const signer = createEventSigner(deps.seed);
  // A bad URL or unreadable TLS file is a config error now, not an endless reconnect loop later.
  if (cfg.broker) await clientOptions(cfg.broker);
  const outbox = await Outbox.open(new DiskOutboxStore(join(cfg.stateDir, 'outbox')), cfg.limits ?? DEFAULT_LIMITS);
  const reporter = new TelemetryReporter({ outbox, signer, deviceId: cfg.deviceId, fleet: cfg.fleet, clock: deps.clock ?? (() => new Date()), ...(deps.facts ? { facts: deps.facts } : {}) });
  const { broker } = cfg;
  const publisher = broker && new MqttPublisher({
    broker,
    topics,
    outbox,
    clientId: `edgeseal-${cfg.fleet}-${cfg.deviceId}`,
    backoff: deps.backoff,
    timers: deps.timers,
    ...(cfg.collectorKey ? { collectorAck: { collectorKey: cfg.collectorKey, fleet: cfg.fleet, deviceId: cfg.deviceId, reportKeyId: signer.keyid } } : {}),
    onState: deps.onState,
    onCommand: (payload) => {
      reporter
        .handleCommand(payload)
        .then((cmd) => cmd && deps.onCommand?.(cmd))
        .catch(deps.onError ?? (() => undefined));
    },
  });
  const cronExpr = cfg.metricsCron === undefined ? DEFAULT_METRICS_CRON : cfg.metricsCron;
  const schedule = cronExpr === null ? undefined : scheduleMetrics(cronExpr, () => reporter.recordMetrics(), deps.onError ?? (() => undefined));
  publisher?.start();
  return {
    reporter,
    publisher,
    outbox,
    brokerUrl: broker?.url,
    async stop() {
      await schedule?.stop();
      await publisher?.stop();
      await outbox.flush();
    },
  };
}
