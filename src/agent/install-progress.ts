import type { DownloadProgress } from '../ota/download.js';
import { planProgress, type ProgressMemo } from '../ota/progress-plan.js';
import type { InstallProgress } from '../telemetry/publisher.js';

// The agent's outlets for install progress (the pure plan is src/ota/progress-plan.ts): a log line and
// systemd's STATUS= every ~10 % or 5 s, and the same figure in the retained telemetry status.
export interface ProgressOutlets {
  readonly log?: (line: string, fields: Record<string, unknown>) => void; // absent when a terminal bar shows it
  readonly status?: (text: string) => void; // sd_notify STATUS= (the agent under systemd)
  readonly publish?: (progress: InstallProgress) => void; // the retained telemetry status
}

export function installProgress(outlets: ProgressOutlets, clock: () => number = Date.now): (p: DownloadProgress, target: string) => void {
  let memo: ProgressMemo | undefined;
  let phase = '';
  return (p, target) => {
    const now = clock();
    // the re-read of the slot is work of its own: its lines start again from 0 %
    if ((p.phase ?? 'install') !== phase) memo = undefined;
    phase = p.phase ?? 'install';
    const planned = planProgress(phase, memo, { done: p.received, total: p.total, now, resumedFrom: p.resumedFrom }, false);
    memo = planned.memo;
    const { line, report } = planned.emit;
    if (!line || !report) return;
    outlets.log?.(`${target} ${line}`, { image: target, done: report.done, total: report.total });
    outlets.status?.(`${target} ${line}`);
    outlets.publish?.({ ...report, target, at: new Date(now).toISOString() });
  };
}
