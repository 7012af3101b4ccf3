import type { DownloadProgress } from './download.js';
import { clock, planProgress, rateOf, type ProgressMemo } from './progress-plan.js';

// The progress bar a CLI shows on a TTY (the terminal adapter of progress-plan.ts):
//   fw.bin [#########-----------]  45% 1.2/2.6 MiB 3.4 MiB/s ETA 0:04 (resumed at 0.5 MiB)

const MIB = 1024 * 1024;
const mib = (n: number): string => (n / MIB).toFixed(1);

// Pure: the line for `p`, `elapsedMs` after this transfer attempt started.
export function formatProgress(label: string, p: DownloadProgress, elapsedMs: number, width = 20): string {
  const fraction = p.total === 0 ? 1 : p.received / p.total;
  const filled = Math.round(fraction * width);
  const bar = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
  const rate = rateOf({ done: p.received, total: p.total, now: 0, resumedFrom: p.resumedFrom }, elapsedMs);
  const eta = rate > 0 && p.received < p.total ? ` ETA ${clock((p.total - p.received) / rate)}` : ''; // none once done
  const resumed = p.resumedFrom > 0 ? ` (resumed at ${mib(p.resumedFrom)} MiB)` : '';
  return `${label} ${bar} ${String(Math.floor(fraction * 100)).padStart(3)}% ${mib(p.received)}/${mib(p.total)} MiB ${mib(rate)} MiB/s${eta}${resumed}`;
}

// The terminal text that redraws the bar line in place, ending the line once every byte is in.
export function redrawProgress(label: string, p: DownloadProgress, elapsedMs: number): string {
  return `\r\x1b[K${formatProgress(label, p, elapsedMs)}${p.received === p.total ? '\n' : ''}`;
}

// An onProgress callback that redraws one terminal line in place when the planner says so (at most
// every 200 ms, always for the last byte); time comes from `now` so tests need not sleep.
export function progressLine(label: string, write: (text: string) => void, opts: { now?: () => number } = {}): (p: DownloadProgress) => void {
  const now = opts.now ?? Date.now;
  let memo: ProgressMemo | undefined;
  let phase: DownloadProgress['phase'];
  return (p) => {
    if (p.phase !== phase) memo = undefined; // the re-read after the transfer gets a bar of its own
    phase = p.phase;
    const planned = planProgress(label, memo, { done: p.received, total: p.total, now: now(), resumedFrom: p.resumedFrom }, true);
    memo = planned.memo;
    const bar = planned.emit.bar;
    if (!bar) return;
    write(redrawProgress(p.phase ? `${label} (${p.phase})` : label, p, bar.elapsedMs));
  };
}
