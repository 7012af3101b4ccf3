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
const RUNS = 11;
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

// Median wall time of a whole process, started as a user starts it, and its peak RSS.
async function wholeProcess(argv: readonly string[]): Promise<{ medianMs: number; p95Ms: number; rssMiB?: number }> {
  const samples: number[] = [];
  let rss: number | undefined;
  for (let i = 0; i < RUNS + 1; i++) {
    const t0 = performance.now();
    const { stderr } = GNU_TIME ? await run(GNU_TIME, ['-f', '%M', ...argv]) : await run(argv[0], argv.slice(1));
    const ms = performance.now() - t0;
    if (i === 0) continue; // warm the page cache first
    samples.push(ms);
    if (GNU_TIME) rss = Math.max(rss ?? 0, Number(stderr.trim().split('\n').pop()) / 1024);
  }
  samples.sort((a, b) => a - b);
  return { medianMs: samples[Math.floor(samples.length / 2)], p95Ms: samples[Math.min(samples.length - 1, Math.floor(0.95 * samples.length))], rssMiB: rss };
}

export const startupBench: Bench = {
  name: `start-up, whole process (median of ${RUNS}), vs node -e 0 in the same run`,
  async run() {
    const dir = await mkdtemp(join(tmpdir(), 'edgeseal-bench-startup-'));
    try {
      const repo = await bigRepo(dir);
      const node = process.execPath;
      const baseline = await wholeProcess([node, '-e', '0']);
      const rows: [string, readonly string[]][] = [
        ['edgeseal --version', [node, MAIN, '--version']],
        ['edgeseal --help', [node, MAIN, '--help']],
        [
          `edgeseal verify (1 KiB, ${TARGETS} targets, 2 delegations)`,
          [node, MAIN, 'verify', '--metadata', repo.metadata, '--target', repo.target, '--file', repo.file, '--hardware-id', 'bench', '--now', NOW.toISOString()],
        ],
      ];
      const rss = (r: { rssMiB?: number }): string => (r.rssMiB === undefined ? 'RSS n/a (no /usr/bin/time)' : `peak RSS ${r.rssMiB.toFixed(0)} MiB`);
      const out: BenchResult[] = [{ op: 'node -e 0 (baseline)', iterations: RUNS, ...baseline, note: rss(baseline) }];
      for (const [op, argv] of rows) {
        const r = await wholeProcess(argv);
        const over = r.medianMs - baseline.medianMs;
        out.push({ op, iterations: RUNS, ...r, note: `+${over.toFixed(0)} ms over node -e 0 (goal ≤ 60 ms); ${rss(r)}` });
      }
      return out;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};
