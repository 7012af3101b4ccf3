// What long work (streaming an image into a slot, hashing one) shows people, as a pure function of
// bytes done / total / now: a bar redrawn on a terminal, a line every ~10 % or 5 s for logs and
// systemd's STATUS=, and a structured report for the retained telemetry status. Adapters write them
// (progress.ts: terminal; src/agent/install-progress.ts: log, sd_notify, telemetry).

export const LONG_WORK_BYTES = 64 * 1024 * 1024; // smaller images finish before anyone waits for a line
const LINE_EVERY_PERCENT = 10;
const LINE_EVERY_MS = 5000;
const BAR_EVERY_MS = 200;
const MIB = 1024 * 1024;

export interface ProgressTick {
  readonly done: number;
  readonly total: number;
  readonly now: number; // ms
  readonly resumedFrom?: number; // bytes that were already in place when the work started
}

// What the planner remembers between ticks.
export interface ProgressMemo {
  readonly startedAt: number;
  readonly barAt: number;
  readonly lineAt: number;
  readonly lineStep: number; // the last 10 % step a line was emitted for
}

export interface ProgressReport {
  readonly phase: string;
  readonly done: number;
  readonly total: number;
  readonly percent: number; // whole percent, rounded down
  readonly bytesPerSecond: number;
}

export interface ProgressEmit {
  readonly bar?: ProgressTick & { readonly elapsedMs: number }; // terminal: redraw now
  readonly line?: string; // log line and STATUS= text
  readonly report?: ProgressReport; // retained status field, alongside each line
}

const percentOf = (t: ProgressTick): number => (t.total === 0 ? 100 : Math.floor((t.done / t.total) * 100));

export function clock(seconds: number): string {
  const s = Math.round(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

// Bytes per second over this run (bytes already in place at a resume do not count as speed).
export function rateOf(t: ProgressTick, elapsedMs: number): number {
  return elapsedMs > 0 ? Math.round((t.done - (t.resumedFrom ?? 0)) / (elapsedMs / 1000)) : 0;
}

export function progressText(phase: string, t: ProgressTick, elapsedMs: number): string {
  const rate = rateOf(t, elapsedMs);
  const eta = rate > 0 && t.done < t.total ? `, ETA ${clock((t.total - t.done) / rate)}` : '';
  return `${phase}: ${percentOf(t)}% (${(t.done / MIB).toFixed(1)}/${(t.total / MIB).toFixed(1)} MiB) at ${(rate / MIB).toFixed(1)} MiB/s${eta}`;
}

// The next memo and what to emit for `tick`. `tty`: a terminal is watching (the bar is drawn for
// any size); lines and reports only for work over LONG_WORK_BYTES: the first tick, each new 10 %
// step, every 5 s, and the last byte.
export function planProgress(phase: string, memo: ProgressMemo | undefined, tick: ProgressTick, tty: boolean): { memo: ProgressMemo; emit: ProgressEmit } {
  const startedAt = memo?.startedAt ?? tick.now;
  const elapsedMs = tick.now - startedAt;
  const last = tick.done >= tick.total;
  const step = Math.floor(percentOf(tick) / LINE_EVERY_PERCENT);
  const drawBar = tty && (memo === undefined || last || tick.now - memo.barAt >= BAR_EVERY_MS);
  const long = tick.total > LONG_WORK_BYTES;
  const writeLine = long && (memo === undefined || last || step > memo.lineStep || tick.now - memo.lineAt >= LINE_EVERY_MS);
  const next: ProgressMemo = {
    startedAt,
    barAt: drawBar ? tick.now : (memo?.barAt ?? tick.now),
    lineAt: writeLine ? tick.now : (memo?.lineAt ?? tick.now),
    lineStep: writeLine ? step : (memo?.lineStep ?? step),
  };
  const report: ProgressReport = { phase, done: tick.done, total: tick.total, percent: percentOf(tick), bytesPerSecond: rateOf(tick, elapsedMs) };
  return {
    memo: next,
    emit: {
      ...(drawBar ? { bar: { ...tick, elapsedMs } } : {}),
      ...(writeLine ? { line: progressText(phase, tick, elapsedMs), report } : {}),
    },
  };
}
