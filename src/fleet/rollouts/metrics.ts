import type * as PromClient from 'prom-client';
import type { RolloutsReport } from './monitor.js';

// /metrics for the rollout view. `edgeseal_fleet_rollout_failing` is what the EdgesealRolloutFailing
// alert watches: 1 while a rollout is over its failure threshold and not halted (with the online key
// the collector halts it at its next check, so the alert's `for:` outlasts an automatic halt).
export function rolloutMetrics(prom: typeof PromClient, registry: PromClient.Registry, report: RolloutsReport): void {
  const gauge = (name: string, help: string) => new prom.Gauge({ name, help, labelNames: ['target'], registers: [registry] });
  const percent = gauge('edgeseal_fleet_rollout_percent', 'Percentage of devices the rollout reaches now (0 when halted).');
  const cohort = gauge('edgeseal_fleet_rollout_cohort_devices', 'Enrolled devices in the rollout cohort now.');
  const installed = gauge('edgeseal_fleet_rollout_installed_devices', 'Devices in the cohort now that reported the install.');
  const committed = gauge('edgeseal_fleet_rollout_committed_devices', 'Devices in the cohort now that reported the commit.');
  const ratio = gauge('edgeseal_fleet_rollout_failure_ratio', 'Devices with a rollback, refused install or failed commit of the target, over devices that installed it.');
  const halted = gauge('edgeseal_fleet_rollout_halted', '1 when the signed rollout policy says halted.');
  const failing = gauge('edgeseal_fleet_rollout_failing', '1 while the failure ratio is over the configured threshold (minimum sample met) and the rollout is not halted.');
  const halts = new prom.Counter({ name: 'edgeseal_fleet_rollout_auto_halts_total', help: 'Rollouts this collector halted automatically (since it started).', labelNames: ['target', 'result'], registers: [registry] });
  for (const r of report.rollouts) {
    const t = { target: r.target };
    const now = r.steps.find((s) => s.current);
    percent.set(t, r.halted ? 0 : r.percentNow);
    cohort.set(t, now?.cohort ?? 0);
    installed.set(t, now?.installed ?? 0);
    committed.set(t, now?.committed ?? 0);
    if (r.failureRate !== null) ratio.set(t, r.failureRate);
    halted.set(t, r.halted ? 1 : 0);
    failing.set(t, r.overThreshold ? 1 : 0);
  }
  for (const h of report.halts) halts.inc({ target: h.target, result: h.ok ? 'halted' : 'failed' });
}
