import { readdir, readFile } from 'node:fs/promises';

// CPU time and peak RSS of other processes (broker, collector, PostgreSQL) from Linux /proc, so the
// load bench can split the CPU between generator, broker, collector and database.
const TICKS_PER_S = 100; // USER_HZ on Linux

async function stat(pid: number): Promise<{ ppid: number; cpuMs: number } | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' '); // fields from 3 (state) on; comm may hold spaces
    return { ppid: Number(f[1]), cpuMs: ((Number(f[11]) + Number(f[12])) * 1000) / TICKS_PER_S };
  } catch {
    return undefined; // exited
  }
}

// CPU ms used so far by `pid` and, when `children`, its live direct children (PostgreSQL backends).
export async function cpuMs(pid: number, children = false): Promise<number> {
  let total = (await stat(pid))?.cpuMs ?? 0;
  if (!children) return total;
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = await stat(Number(name));
    if (s?.ppid === pid) total += s.cpuMs;
  }
  return total;
}

// Peak resident set (VmHWM) in MB.
export async function peakRssMb(pid: number): Promise<number> {
  const m = /VmHWM:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

// Samples CPU ms of several named processes: `take()` returns what each used since `start()`.
export class CpuMeter {
  private base = new Map<string, number>();
  constructor(private readonly procs: () => Promise<Record<string, number>>) {}

  async start(): Promise<void> {
    this.base = new Map(Object.entries(await this.procs()));
  }

  async take(): Promise<Record<string, number>> {
    const now = await this.procs();
    return Object.fromEntries(Object.entries(now).map(([k, v]) => [k, v - (this.base.get(k) ?? 0)]));
  }
}
