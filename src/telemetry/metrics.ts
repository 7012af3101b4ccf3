import type { ErrorCode } from '../core/errors.js';
import type { TelemetryEvent } from './event.js';
import type { OutboxStats } from './outbox/outbox.js';

// The SLIs fleets run on, as carried in the body of a `metrics` event (see docs/telemetry.md).
export interface MetricsBody {
  windowStart: string;
  verify: { attempts: number; successes: number; failures: Partial<Record<ErrorCode, number>> };
  verifyLatencyMs: { count: number; p50: number | null; p95: number | null; max: number | null };
  blockedInstalls: number;
  installs: number;
  signedInstalls: number; // installed images whose verification named signing key ids
  signedDeployPercent: number | null; // floor(100 · signedInstalls / installs): canonical JSON has no floats
  root: { version: number; keyids: string[] } | null;
  revocation: { version: number; ageSeconds: number } | null;
  outbox: { depth: number; bytes: number; oldestAgeMs: number; dropped: OutboxStats['dropped'] };
  storageErrors: number;
  commandEventsSuppressed: number; // cmd-topic messages beyond the rate cap, not recorded one by one
}

// Which events count as verifications and as blocked installs; the fleet SLIs (src/fleet/sli.ts) use the same.
export const VERIFY_TYPES: ReadonlySet<string> = new Set(['boot-verification', 'update-decision']);
// A blocked install is one refused update-decision: the installer's own `install` refusal (an abandoned
// download) is always followed by that attempt's update-decision, so counting both counted it twice.
export const BLOCKING_TYPES: ReadonlySet<string> = new Set(['update-decision']);

// Nearest-rank percentile of an ascending array (p in 0..100).
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] ?? null;
}

// Folds events into counters; latency percentiles use the most recent `window` samples so memory stays bounded.
export class MetricsAggregator {
  private attempts = 0;
  private successes = 0;
  private failures: Partial<Record<ErrorCode, number>> = {};
  private readonly latencies: number[] = [];
  private blocked = 0;
  private installs = 0;
  private signedInstalls = 0;
  private root: MetricsBody['root'] = null;
  private revocation: { version: number; ageSeconds: number; at: number } | null = null;
  private storageErrorEvents = 0;
  private suppressedCommands = 0;

  constructor(
    private windowStart: Date,
    private readonly window = 1024,
  ) {}

  observe(e: TelemetryEvent): void {
    if (VERIFY_TYPES.has(e.type) && e.verdict !== 'info') {
      this.attempts += 1;
      if (e.verdict === 'ok') this.successes += 1;
      else if (e.code) this.failures[e.code] = (this.failures[e.code] ?? 0) + 1;
      if (e.latencyMs !== undefined) {
        this.latencies.push(e.latencyMs);
        if (this.latencies.length > this.window) this.latencies.shift();
      }
    }
    if (BLOCKING_TYPES.has(e.type) && e.verdict === 'refused') this.blocked += 1;
    if (e.type === 'install' && e.verdict === 'ok') {
      this.installs += 1;
      if (e.keyids?.length) this.signedInstalls += 1;
    }
    if (e.rootVersion !== undefined) this.root = { version: e.rootVersion, keyids: [...(e.keyids ?? [])] };
    if (e.revocation) this.revocation = { ...e.revocation, at: Date.parse(e.time) };
    if (e.code === 'STORAGE_ERROR') this.storageErrorEvents += 1;
  }

  commandSuppressed(): void {
    this.suppressedCommands += 1;
  }

  snapshot(now: Date, outbox: OutboxStats): MetricsBody {
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const rev = this.revocation;
    return {
      windowStart: this.windowStart.toISOString(),
      verify: { attempts: this.attempts, successes: this.successes, failures: { ...this.failures } },
      verifyLatencyMs: { count: sorted.length, p50: percentile(sorted, 50), p95: percentile(sorted, 95), max: sorted.at(-1) ?? null },
      blockedInstalls: this.blocked,
      installs: this.installs,
      signedInstalls: this.signedInstalls,
      signedDeployPercent: this.installs ? Math.floor((100 * this.signedInstalls) / this.installs) : null,
      root: this.root && { version: this.root.version, keyids: [...this.root.keyids] },
      revocation: rev && { version: rev.version, ageSeconds: rev.ageSeconds + Math.max(0, Math.floor((now.getTime() - rev.at) / 1000)) },
      outbox: { depth: outbox.depth, bytes: outbox.bytes, oldestAgeMs: outbox.oldestAgeMs, dropped: { ...outbox.dropped } },
      storageErrors: this.storageErrorEvents + outbox.storageErrors,
      commandEventsSuppressed: this.suppressedCommands,
    };
  }
}
