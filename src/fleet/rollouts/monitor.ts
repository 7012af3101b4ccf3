import { asEdgesealError } from '../../core/errors.js';
import type { RolloutsConfig } from '../collector/config.js';
import { loadSnapshot, type FleetSnapshot } from '../http/fleet-view.js';
import type { FleetStore } from '../store/port.js';
import { readRolloutSource, type RolloutSource } from './policy-source.js';
import { rolloutProgress, type RolloutProgress } from './progress.js';

// Re-reads the rollout policy from the configured repository, computes each rollout's progress and
// failure rate, and acts on a failing one: halts it when the online rollouts key is configured,
// otherwise leaves it to the EdgesealRolloutFailing alert (docs/fleet/rollouts.md).

export interface HaltRecord {
  readonly target: string;
  readonly at: string;
  readonly failureRate: number;
  readonly failures: number;
  readonly installs: number;
  readonly result: string; // what was signed, or why the halt failed
  readonly ok: boolean;
}

export interface RolloutsReport {
  readonly configured: boolean;
  readonly autoHalt: boolean;
  readonly thresholdPercent: number | null;
  readonly minSample: number | null;
  readonly policyVersion: number | null;
  readonly readAt: string | null;
  readonly error: { code: string; message: string } | null;
  readonly rollouts: readonly RolloutProgress[];
  readonly halts: readonly HaltRecord[];
}

export type HaltFn = (target: string, now: Date) => Promise<{ policyVersion: number; signed: string[] }>;

export interface MonitorDeps {
  config: RolloutsConfig;
  store: FleetStore;
  halt?: HaltFn; // present when the online rollouts key is configured
  log: (level: 'info' | 'error', line: string) => void;
}

const MAX_HALTS = 50;

export const NOT_CONFIGURED: RolloutsReport = { configured: false, autoHalt: false, thresholdPercent: null, minSample: null, policyVersion: null, readAt: null, error: null, rollouts: [], halts: [] };

export class RolloutMonitor {
  private source: RolloutSource | undefined;
  private readAt: Date | undefined;
  private error: { code: string; message: string } | null = null;
  private readonly halts: HaltRecord[] = []; // the newest MAX_HALTS, for the dashboard

  constructor(private readonly deps: MonitorDeps) {}

  // Re-reads and re-verifies the policy; on failure the last good one stays shown, with the error.
  async refresh(now: Date): Promise<void> {
    try {
      this.source = await readRolloutSource(this.deps.config.repository, this.deps.config.trustedRoot, now);
      this.readAt = now;
      this.error = null;
    } catch (err) {
      const e = asEdgesealError(err);
      this.error = { code: e.code, message: e.message };
      this.deps.log('error', `rollouts: [${e.code}] ${e.message}`);
    }
  }

  report(s: FleetSnapshot, now: Date): RolloutsReport {
    const c = this.deps.config;
    const policy = this.source?.policy;
    const rollouts = policy ? rolloutProgress(policy, this.source?.images ?? [], s.devices, s.rows, { thresholdPercent: c.failureThresholdPercent, minSample: c.minSample }, now) : [];
    return {
      configured: true, autoHalt: this.deps.halt !== undefined, thresholdPercent: c.failureThresholdPercent, minSample: c.minSample,
      policyVersion: policy?.version ?? null, readAt: this.readAt?.toISOString() ?? null, error: this.error, rollouts, halts: [...this.halts],
    };
  }

  // One check: refresh, then halt (or log the alarm for) every rollout over its threshold.
  async check(now: Date): Promise<RolloutsReport> {
    await this.refresh(now);
    let report = this.report(await loadSnapshot(this.deps.store, new Map()), now);
    const failing = report.rollouts.filter((r) => r.overThreshold);
    for (const r of failing) await this.act(r, now);
    if (failing.length && this.deps.halt) {
      await this.refresh(now); // show the halted policy at once
      report = this.report(await loadSnapshot(this.deps.store, new Map()), now);
    }
    return report;
  }

  private record(h: HaltRecord): void {
    this.halts.push(h);
    if (this.halts.length > MAX_HALTS) this.halts.shift();
  }

  private async act(r: RolloutProgress, now: Date): Promise<void> {
    const rate = `${((r.failureRate ?? 0) * 100).toFixed(1)} % (${r.failures} of ${r.installs} installs) > ${this.deps.config.failureThresholdPercent} %`;
    const base = { target: r.target, at: now.toISOString(), failureRate: r.failureRate ?? 0, failures: r.failures, installs: r.installs };
    if (!this.deps.halt) {
      this.deps.log('error', `rollouts: ALARM [ROLLOUT_FAILING] ${r.target}: failure rate ${rate}; no rollouts key configured, halt it with 'edgeseal repo rollout ${r.target} --halt' (docs/runbooks/rollout-failing.md)`);
      return;
    }
    try {
      const done = await this.deps.halt(r.target, now);
      this.record({ ...base, ok: true, result: `rollout policy v${done.policyVersion}; signed ${done.signed.join(', ')}` });
      this.deps.log('info', `rollouts: HALTED ${r.target} automatically: failure rate ${rate}; rollout policy v${done.policyVersion}, signed ${done.signed.join(', ')}`);
    } catch (err) {
      const e = asEdgesealError(err);
      this.record({ ...base, ok: false, result: `[${e.code}] ${e.message}` });
      this.deps.log('error', `rollouts: ALARM [ROLLOUT_FAILING] ${r.target}: failure rate ${rate}; automatic halt failed: [${e.code}] ${e.message}`);
    }
  }
}
