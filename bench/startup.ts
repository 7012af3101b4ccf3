import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { keyFromSeed } from '../src/crypto/ed25519.js';
import { publishedLayout } from '../src/repo/published-layout.js';
import { writePublished } from '../src/repo/publish-dir.js';
import { Repository } from '../src/repo/repository.js';
import type { Bench, BenchResult } from './measure.js';

const run = promisify(execFile);
const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const RUNS = 15;
const TARGETS = 1000;
const NOW = new Date('2026-01-01T12:00:00Z');
// GNU time reports the child's peak RSS; without it the rows give wall time only.
const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

const key = (label: string): ReturnType<typeof keyFromSeed> => keyFromSeed(createHash('sha256').update(`bench/startup/${label}`).digest());
const custom = (i: number): Record<string, unknown> => ({ hardwareIds: ['bench'], version: `1.0.${i}`, securityVersion: 0, kind: 'app' });

// A repository of TARGETS targets, a third in each of 2 delegated roles, published to dir/site.
async function bigRepo(dir: string): Promise<{ metadata: string; file: string; target: string }> {
  const repo = Repository.init({ keys: { root: [key('root')], targets: [key('targets')], snapshot: [key('snapshot')], timestamp: [key('timestamp')] } });
  for (const name of ['builder-a', 'builder-b']) repo.delegate({ name, paths: [`${name}/*`], keys: [key(name)] });
  const image = Buffer.alloc(1024, 7);
  const sha256 = createHash('sha256').update(image).digest('hex');
  for (let i = 0; i < TARGETS; i++) {
    const role = ['targets', 'builder-a', 'builder-b'][i % 3];
    const prefix = role === 'targets' ? 'apps' : role;
    repo.addTarget(`${prefix}/image-${i}.bin`, { length: image.length, sha256, custom: custom(i) }, { role });
  }
  repo.sign(NOW);
  const site = join(dir, 'site');
  await writePublished(site, publishedLayout(repo), () => image);
  const file = join(dir, 'image.bin');
  await writeFile(file, image);
  // the last target builder-b signed (i % 3 === 2): the lookup walks the delegations
  return { metadata: join(site, 'metadata'), file, target: `builder-b/image-${TARGETS - 2}.bin` };
}

interface Samples {
  readonly wall: number[];
  readonly cpu: number[]; // user + sys, from GNU time (10 ms resolution per run: the rows give the mean)
  rssMiB?: number;
}

// One run of a whole process, started as a user starts it.
async function once(argv: readonly string[], into?: Samples): Promise<void> {
  const t0 = performance.now();
  const { stderr } = GNU_TIME ? await run(GNU_TIME, ['-f', '%U %S %M', ...argv]) : await run(argv[0], argv.slice(1));
  const ms = performance.now() - t0;
  if (!into) return;
  into.wall.push(ms);
  if (!GNU_TIME) return;
  const [user, sys, rssKiB] = stderr.trim().split('\n').pop()!.split(' ').map(Number);
  into.cpu.push((user + sys) * 1000);
  into.rssMiB = Math.max(into.rssMiB ?? 0, rssKiB / 1024);
}

// Every command RUNS times, interleaved round by round, so that load from the shared machine falls on
// the baseline and the rows alike; one warm-up round first (page cache).
async function interleaved(commands: readonly (readonly string[])[]): Promise<Samples[]> {
  const all: Samples[] = commands.map(() => ({ wall: [], cpu: [] }));
  for (const argv of commands) await once(argv);
  for (let i = 0; i < RUNS; i++) for (const [j, argv] of commands.entries()) await once(argv, all[j]);
  return all;
}

function summary(s: Samples): { medianMs: number; p95Ms: number; cpuMs?: number; rssMiB?: number } {
  const wall = [...s.wall].sort((a, b) => a - b);
  const cpuMs = s.cpu.length ? s.cpu.reduce((a, b) => a + b, 0) / s.cpu.length : undefined;
  return { medianMs: wall[Math.floor(wall.length / 2)], p95Ms: wall[Math.min(wall.length - 1, Math.floor(0.95 * wall.length))], cpuMs, rssMiB: s.rssMiB };
}

export const startupBench: Bench = {
  name: `start-up, whole process (median of ${RUNS}, interleaved), vs node -e 0 in the same run`,
  async run() {
    const dir = await mkdtemp(join(tmpdir(), 'edgeseal-bench-startup-'));
    try {
      const repo = await bigRepo(dir);
      const node = process.execPath;
      const rows: [string, readonly string[]][] = [
        ['node -e 0 (baseline)', [node, '-e', '0']],
        ['edgeseal --version', [node, MAIN, '--version']],
        ['edgeseal --help', [node, MAIN, '--help']],
        [
          `edgeseal verify (1 KiB, ${TARGETS} targets, 2 delegations)`,
          [node, MAIN, 'verify', '--metadata', repo.metadata, '--target', repo.target, '--file', repo.file, '--hardware-id', 'bench', '--now', NOW.toISOString()],
        ],
      ];
      const [baseline, ...results] = (await interleaved(rows.map(([, argv]) => argv))).map(summary);
      const about = (r: ReturnType<typeof summary>): string =>
        r.rssMiB === undefined ? 'CPU and RSS n/a (no /usr/bin/time)' : `CPU ${r.cpuMs!.toFixed(0)} ms (mean); peak RSS ${r.rssMiB.toFixed(0)} MiB`;
      const out: BenchResult[] = [{ op: rows[0][0], iterations: RUNS, ...baseline, note: about(baseline) }];
      results.forEach((r, i) => {
        const cpuOver = r.cpuMs === undefined ? '' : `, CPU +${(r.cpuMs - baseline.cpuMs!).toFixed(0)} ms`;
        out.push({ op: rows[i + 1][0], iterations: RUNS, ...r, note: `wall +${(r.medianMs - baseline.medianMs).toFixed(0)} ms over node -e 0${cpuOver} (goal ≤ 60 ms); ${about(r)}` });
      });
      return out;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};
