import type { DownloadProgress } from './download.js';

// The download progress line a CLI shows on a TTY:
//   fw.bin [#########-----------]  45% 1.2/2.6 MiB 3.4 MiB/s ETA 0:04 (resumed at 0.5 MiB)

const MIB = 1024 * 1024;
const mib = (n: number): string => (n / MIB).toFixed(1);

function clock(seconds: number): string {
  const s = Math.round(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

// Pure: the line for `p`, `elapsedMs` after this transfer attempt started.
export function formatProgress(label: string, p: DownloadProgress, elapsedMs: number, width = 20): string {
  const fraction = p.total === 0 ? 1 : p.received / p.total;
  const filled = Math.round(fraction * width);
  const bar = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
  const rate = elapsedMs > 0 ? (p.received - p.resumedFrom) / (elapsedMs / 1000) : 0;
  const eta = rate > 0 ? ` ETA ${clock((p.total - p.received) / rate)}` : '';
  const resumed = p.resumedFrom > 0 ? ` (resumed at ${mib(p.resumedFrom)} MiB)` : '';
  return `${label} ${bar} ${String(Math.floor(fraction * 100)).padStart(3)}% ${mib(p.received)}/${mib(p.total)} MiB ${mib(rate)} MiB/s${eta}${resumed}`;
}

// An onProgress callback that redraws one terminal line in place, at most every `intervalMs`
// (and always for the last byte); time comes from `now` so tests need not sleep.
export function progressLine(label: string, write: (text: string) => void, opts: { now?: () => number; intervalMs?: number } = {}): (p: DownloadProgress) => void {
  const now = opts.now ?? Date.now;
  const interval = opts.intervalMs ?? 200;
  const started = now();
  let last = -Infinity;
  return (p) => {
    const t = now();
    const done = p.received === p.total;
    if (!done && t - last < interval) return;
    last = t;
    write(`\r\x1b[K${formatProgress(label, p, t - started)}${done ? '\n' : ''}`);
  };
}
