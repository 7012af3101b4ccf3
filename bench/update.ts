import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { publishedTargetPath } from '../src/ota/target-path.js';
import { writeImage } from './image-file.js';
import type { Bench, BenchResult } from './measure.js';

// Issue 12 D: an update streamed from a local folder into a file slot (a whole process: stream,
// fdatasync, digest, re-read, arm; no TUF refresh), against `dd … conv=fsync && openssl dgst -sha256`
// over the same bytes, interleaved, best of 3; its peak RSS; and the most the state dir ever held.
const run = promisify(execFile);
const MiB = 1024 * 1024;
const QUICK = process.env.BENCH_QUICK === '1';
const SIZE = QUICK ? 64 * MiB : 1024 * MiB;
const CHILD = fileURLToPath(new URL('./update-child.js', import.meta.url));

async function install(repo: string, dir: string, target: { name: string; length: number; sha256: string }): Promise<{ ms: number; rss: number; peakState: number }> {
  const state = await mkdtemp(join(dir, 'state-'));
  const args = { repo, state, slots: { A: join(dir, 'slot-a.img'), B: join(dir, 'slot-b.img') }, target: { ...target, version: '1.0.0', securityVersion: 0 } };
  const t0 = performance.now();
  const { stdout } = await run(process.execPath, [CHILD, JSON.stringify(args)]);
  const ms = performance.now() - t0;
  await rm(state, { recursive: true, force: true });
  return { ms, ...(JSON.parse(stdout) as { rss: number; peakState: number }) };
}

async function ddThenDigest(image: string, slot: string): Promise<number> {
  const t0 = performance.now();
  await run('sh', ['-c', 'dd if="$1" of="$2" bs=1M conv=fsync status=none && openssl dgst -sha256 "$2" >/dev/null', 'sh', image, slot]);
  return performance.now() - t0;
}

const row = (op: string, ms: number, note: string): BenchResult => ({ op, iterations: 3, medianMs: ms, p95Ms: ms, note });

export const updateBench: Bench = {
  name: `update: one ${SIZE / MiB} MiB target from a local folder into a file slot, best of 3 interleaved${QUICK ? ' (BENCH_QUICK)' : ''}`,
  async run() {
    const dir = await mkdtemp(join(tmpdir(), 'edgeseal-bench-update-'));
    try {
      const repo = join(dir, 'repo');
      const target = { name: 'fw/bench.img', length: SIZE, sha256: '' };
      const file = join(repo, 'targets', publishedTargetPath({ ...target, sha256: '0'.repeat(64) }));
      await mkdir(join(file, '..'), { recursive: true });
      const sha256 = await writeImage(file, SIZE);
      // the published name carries the digest: write it again under the real one
      const published = join(repo, 'targets', publishedTargetPath({ ...target, sha256 }));
      await run('mv', [file, published]);
      const runs: { ms: number; rss: number; peakState: number }[] = [];
      const dd: number[] = [];
      for (let i = 0; i < 3; i++) {
        runs.push(await install(repo, dir, { ...target, sha256 }));
        dd.push(await ddThenDigest(published, join(dir, 'dd-slot.img')));
      }
      const best = Math.min(...runs.map((r) => r.ms));
      const ddBest = Math.min(...dd);
      const rss = Math.max(...runs.map((r) => r.rss)) / MiB;
      const state = Math.max(...runs.map((r) => r.peakState));
      return [
        row('update into a file slot (whole process)', best, `${(best / ddBest).toFixed(2)}× dd+openssl (goal ≤ 1.3); peak RSS ${rss.toFixed(0)} MiB (goal < 100, 1 thread, no workers)`),
        row('dd bs=1M conv=fsync && openssl dgst -sha256', ddBest, `${(SIZE / 1e9 / (ddBest / 1000)).toFixed(2)} GB/s`),
        row('state dir at its largest during the update', 0, `${state} bytes for a ${SIZE / MiB} MiB image (goal < 1 MiB)`),
      ];
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};
