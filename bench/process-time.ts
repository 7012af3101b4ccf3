import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';

// Whole-process timing for the rows that are commands (start-up, verify of one image): wall time from
// here, CPU and peak RSS from GNU time where it is installed.

const run = promisify(execFile);
// GNU time reports the child's peak RSS; without it the rows give wall time only.
const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

export interface Samples {
  readonly wall: number[];
  readonly cpu: number[]; // user + sys, from GNU time (10 ms resolution per run: the rows give the mean)
  rssMiB?: number;
}

// One run of a whole process, started as a user starts it.
async function once(argv: readonly string[], into?: Samples): Promise<void> {
  const t0 = performance.now();
  const { stderr } = GNU_TIME ? await run(GNU_TIME, ['-f', '%U %S %M', ...argv], { maxBuffer: 16 * 1024 * 1024 }) : await run(argv[0], argv.slice(1), { maxBuffer: 16 * 1024 * 1024 });
  const ms = performance.now() - t0;
  if (!into) return;
  into.wall.push(ms);
  if (!GNU_TIME) return;
  const [user, sys, rssKiB] = stderr.trim().split('\n').pop()!.split(' ').map(Number);
  into.cpu.push((user + sys) * 1000);
  into.rssMiB = Math.max(into.rssMiB ?? 0, rssKiB / 1024);
}

// Every command `runs` times, interleaved round by round, so that load from the shared machine falls on
// the baseline and the rows alike; one warm-up round first (page cache).
export async function interleaved(commands: readonly (readonly string[])[], runs: number): Promise<Samples[]> {
  const all: Samples[] = commands.map(() => ({ wall: [], cpu: [] }));
  for (const argv of commands) await once(argv);
  for (let i = 0; i < runs; i++) for (const [j, argv] of commands.entries()) await once(argv, all[j]);
  return all;
}

export interface ProcessSummary {
  readonly medianMs: number;
  readonly p95Ms: number;
  readonly bestMs: number;
  readonly cpuMs?: number;
  readonly rssMiB?: number;
}

export function summary(s: Samples): ProcessSummary {
  const wall = [...s.wall].sort((a, b) => a - b);
  const cpuMs = s.cpu.length ? s.cpu.reduce((a, b) => a + b, 0) / s.cpu.length : undefined;
  return { medianMs: wall[Math.floor(wall.length / 2)], p95Ms: wall[Math.min(wall.length - 1, Math.floor(0.95 * wall.length))], bestMs: wall[0], cpuMs, rssMiB: s.rssMiB };
}

// CPU and peak RSS of a row, or why they are missing.
export const cpuAndRss = (r: ProcessSummary): string =>
  r.rssMiB === undefined ? 'CPU and RSS n/a (no /usr/bin/time)' : `CPU ${r.cpuMs!.toFixed(0)} ms (mean); peak RSS ${r.rssMiB.toFixed(0)} MiB`;
