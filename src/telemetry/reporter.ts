import { asEdgesealError } from '../core/errors.js';
import { parseCommand, type FleetCommand } from './command.js';
import { encodeEnvelope, type EventSigner } from './envelope.js';
import { buildEvent, type EventInput, type TelemetryEvent } from './event.js';
import { MetricsAggregator } from './metrics.js';
import { priorityOf } from './outbox/drop-policy.js';
import { TokenBucket } from './rate-limit.js';
import type { AppendResult, Outbox } from './outbox/outbox.js';

export interface ReporterDeps {
  outbox: Outbox;
  signer: EventSigner;
  deviceId: string;
  fleet: string;
  clock: () => Date;
  // the inventory facts for the periodic metrics event (schema 2); a failure leaves them out
  facts?: () => Promise<DeviceReport>;
}

export type DeviceReport = Pick<EventInput, 'device' | 'rootVersion' | 'revocation'>;

export interface Recorded extends AppendResult {
  event: TelemetryEvent;
}

// Turns agent verdicts into signed, sequenced events in the durable outbox and keeps the SLI counters.
// Resolves once the event is on disk (or was dropped by policy, which `admitted` says).
// Commands are capped so that a flood on the cmd topic cannot turn into a flood of fsyncs or of TUF
// refreshes: beyond the cap a command is refused (not handed to the agent) and only counted.
const COMMAND_BURST = 20;
const COMMANDS_PER_MINUTE = 10;

export class TelemetryReporter {
  readonly metrics: MetricsAggregator;
  private readonly commandEvents: TokenBucket;
  private limitReported = false; // one RATE_LIMITED event per stretch of refusals, until a token refills

  constructor(private readonly deps: ReporterDeps) {
    const now = deps.clock();
    this.metrics = new MetricsAggregator(now);
    this.commandEvents = new TokenBucket(COMMAND_BURST, COMMANDS_PER_MINUTE, now.getTime());
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
    // the event is stored whatever happens to the drop record; what stays unrecorded goes in the next one
    if (!result.admitted || result.evicted.length) await this.reportDrops().catch(() => undefined);
    return { ...result, event: built };
  }

  // Records the seq ranges the outbox dropped by policy in a signed outbox-drop event, so the fleet can
  // tell them from events lost in transit. Resolves undefined when nothing is unreported.
  async reportDrops(): Promise<AppendResult | undefined> {
    const now = this.deps.clock();
    return this.deps.outbox.reportDrops((seq, dropped) => {
      const event = buildEvent({ type: 'outbox-drop', verdict: 'info', dropped }, { deviceId: this.deps.deviceId, fleet: this.deps.fleet, seq, now });
      return { priority: priorityOf(event), channel: 'event', bytes: encodeEnvelope(this.deps.signer.sign(event)) };
    }, now.getTime());
  }

  // The periodic heartbeat: a `metrics` event carrying the current SLI snapshot and, from schema 2, the
  // device facts the fleet inventory shows. Drops not yet reported (a restart, a report itself dropped) go first.
  async recordMetrics(): Promise<Recorded> {
    await this.reportDrops().catch(() => undefined);
    const facts = (await this.deps.facts?.().catch(() => undefined)) ?? {};
    const now = this.deps.clock();
    const body = this.metrics.snapshot(now, this.deps.outbox.stats(now.getTime()));
    const root = body.root?.version;
    const revocation = body.revocation ?? undefined;
    return this.record({ type: 'metrics', verdict: 'info', metrics: { ...body }, ...(root ? { rootVersion: root } : {}), ...(revocation ? { revocation } : {}), ...facts });
  }

  // Parses a fleet command; valid or not, it is reported as a `command` event. Beyond the rate cap it is
  // refused: counted in the metrics, reported once per stretch of refusals, never returned. Never throws.
  async handleCommand(payload: Uint8Array): Promise<FleetCommand | undefined> {
    if (!this.commandEvents.take(this.deps.clock().getTime())) {
      this.metrics.commandSuppressed();
      if (!this.limitReported) {
        this.limitReported = true;
        const detail = `commands beyond ${COMMAND_BURST} at once or ${COMMANDS_PER_MINUTE}/min are refused and counted in metrics until the rate falls`;
        await this.record({ type: 'command', verdict: 'refused', code: 'RATE_LIMITED', detail }).catch(() => undefined);
      }
      return undefined;
    }
    this.limitReported = false;
    let cmd: FleetCommand | undefined;
    let event: EventInput;
    try {
      cmd = parseCommand(payload);
      event = { type: 'command', verdict: 'ok', detail: cmd.id ? `${cmd.command} id=${cmd.id}` : cmd.command };
    } catch (err) {
      const e = asEdgesealError(err);
      event = { type: 'command', verdict: 'refused', code: e.code, detail: e.message.slice(0, 512) };
    }
    await this.record(event).catch(() => undefined);
    return cmd;
  }
}
