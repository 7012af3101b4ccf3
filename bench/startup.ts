import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { keyFromSeed } from '../src/crypto/ed25519.js';
import { publishedLayout } from '../src/repo/published-layout.js';
import { writePublished } from '../src/repo/publish-dir.js';
import { Repository } from '../src/repo/repository.js';
import type { Bench, BenchResult } from './measure.js';
import { cpuAndRss, interleaved, summary } from './process-time.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const RUNS = 15;
const TARGETS = 1000;
const NOW = new Date('2026-01-01T12:00:00Z');

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
      const [baseline, ...results] = (await interleaved(rows.map(([, argv]) => argv), RUNS)).map(summary);
      const out: BenchResult[] = [{ op: rows[0][0], iterations: RUNS, ...baseline, note: cpuAndRss(baseline) }];
      results.forEach((r, i) => {
        const cpuOver = r.cpuMs === undefined ? '' : `, CPU +${(r.cpuMs - baseline.cpuMs!).toFixed(0)} ms`;
        out.push({ op: rows[i + 1][0], iterations: RUNS, ...r, note: `wall +${(r.medianMs - baseline.medianMs).toFixed(0)} ms over node -e 0${cpuOver} (goal ≤ 60 ms); ${cpuAndRss(r)}` });
      });
      return out;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};
