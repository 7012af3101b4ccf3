import { asEdgesealError } from '../core/errors.js';
import { parseCommand, type FleetCommand } from './command.js';
import { encodeEnvelope, type EventSigner } from './envelope.js';
import { buildEvent, type EventInput, type TelemetryEvent } from './event.js';
import { MetricsAggregator } from './metrics.js';
import { priorityOf } from './outbox/drop-policy.js';
import type { AppendResult, Outbox } from './outbox/outbox.js';

export interface ReporterDeps {
  outbox: Outbox;
  signer: EventSigner;
  deviceId: string;
  fleet: string;
  clock: () => Date;
}

export interface Recorded extends AppendResult {
  event: TelemetryEvent;
}

// Turns agent verdicts into signed, sequenced events in the durable outbox and keeps the SLI counters.
// Resolves once the event is on disk (or was dropped by policy, which `admitted` says).
export class TelemetryReporter {
  readonly metrics: MetricsAggregator;

  constructor(private readonly deps: ReporterDeps) {
    this.metrics = new MetricsAggregator(deps.clock());
  }

  async record(input: EventInput): Promise<Recorded> {
    const now = this.deps.clock();
    let event: TelemetryEvent | undefined;
    const result = await this.deps.outbox.append((seq) => {
      event = buildEvent(input, { deviceId: this.deps.deviceId, fleet: this.deps.fleet, seq, now });
      return { priority: priorityOf(event), channel: event.type === 'metrics' ? 'metrics' : 'event', bytes: encodeEnvelope(this.deps.signer.sign(event)) };
    }, now.getTime());
    // append only resolves after build ran, so the event is set here.
    const built = event as TelemetryEvent;
    if (built.type !== 'metrics') this.metrics.observe(built);
    return { ...result, event: built };
  }

  // The periodic heartbeat: a `metrics` event carrying the current SLI snapshot.
  recordMetrics(): Promise<Recorded> {
    const now = this.deps.clock();
    const body = this.metrics.snapshot(now, this.deps.outbox.stats(now.getTime()));
    return this.record({ type: 'metrics', verdict: 'info', metrics: { ...body } });
  }

  // Parses a fleet command; valid or not, it is reported as a `command` event. Never throws.
  async handleCommand(payload: Uint8Array): Promise<FleetCommand | undefined> {
    let cmd: FleetCommand;
    try {
      cmd = parseCommand(payload);
    } catch (err) {
      const e = asEdgesealError(err);
      await this.record({ type: 'command', verdict: 'refused', code: e.code, detail: e.message.slice(0, 512) }).catch(() => undefined);
      return undefined;
    }
    await this.record({ type: 'command', verdict: 'ok', detail: cmd.id ? `${cmd.command} id=${cmd.id}` : cmd.command }).catch(() => undefined);
    return cmd;
  }
}
