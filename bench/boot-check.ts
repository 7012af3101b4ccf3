import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { checkImage } from '../src/agent/check-image.js';
import { buildImageVerifier } from '../src/agent/image-verifier.js';
import { fixedImage } from '../src/agent/installed-images.js';
import { keyFromSeed } from '../src/crypto/ed25519.js';
import { DEFAULT_FRESHNESS_POLICY } from '../src/revocation/policy.js';
import { Repository } from '../src/repo/repository.js';
import { loadTrustedMetadata } from '../src/tuf/offline/load-trusted.js';
import { publishedFiles } from '../test/helpers/tuf-repo.js';
import type { Bench, BenchResult } from './measure.js';

const run = promisify(execFile);
const MiB = 1024 * 1024;
// BENCH_QUICK=1: 64 MiB over 50 images, 256 MiB for the large RSS probe (instead of 1 GiB and 4 GiB)
const QUICK = process.env.BENCH_QUICK === '1';
const TOTAL = QUICK ? 64 * MiB : 1024 * MiB;
const LARGE = QUICK ? 256 * MiB : 4096 * MiB;
const IMAGES = 50;
const NOW = new Date('2026-01-01T12:00:00Z');

// Real bytes (never sparse): a random MiB, stamped with its index so no two chunks are equal.
async function writeImage(path: string, length: number): Promise<string> {
  const fh = await open(path, 'w');
  const hash = createHash('sha256');
  const block = randomBytes(MiB);
  try {
    for (let off = 0; off < length; off += MiB) {
      const chunk = block.subarray(0, Math.min(MiB, length - off));
      chunk.writeUInt32BE(off / MiB, 0);
      hash.update(chunk);
      await fh.write(chunk, 0, chunk.length, off);
    }
  } finally {
    await fh.close();
  }
  return hash.digest('hex');
}

const key = (label: string): ReturnType<typeof keyFromSeed> => keyFromSeed(createHash('sha256').update(`bench/${label}`).digest());

// Peak RSS of a fresh process that streams one file through digestFile.
async function peakRss(file: string): Promise<number> {
  const digest = new URL('../src/io/file-digest.js', import.meta.url).href;
  const code = `const { digestFile } = await import(${JSON.stringify(digest)}); await digestFile(${JSON.stringify(file)}); process.stdout.write(String(process.resourceUsage().maxRSS * 1024));`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (c) => (c === 0 ? resolve(Number(out)) : reject(new Error(`rss probe exited ${c}`))));
  });
}

const row = (op: string, ms: number, note: string): BenchResult => ({ op, iterations: 1, medianMs: ms, p95Ms: ms, note });

export const bootCheckBench: Bench = {
  name: `boot check: ${IMAGES} images, ${TOTAL / MiB} MiB total, vs openssl dgst -sha256${QUICK ? ' (BENCH_QUICK)' : ''}`,
  async run() {
    const dir = await mkdtemp(join(tmpdir(), 'edgeseal-bench-boot-'));
    try {
      const repo = Repository.init({ keys: { root: [key('root')], targets: [key('targets')], snapshot: [key('snapshot')], timestamp: [key('timestamp')] } });
      const files: string[] = [];
      for (let i = 0; i < IMAGES; i++) {
        const file = join(dir, `image-${i}.bin`);
        const length = TOTAL / IMAGES;
        const sha256 = await writeImage(file, Math.floor(length));
        repo.addTarget(`apps/image-${i}.bin`, { length: Math.floor(length), sha256, custom: { hardwareIds: ['bench'], version: '1.0.0', securityVersion: 0, kind: 'app' } });
        files.push(file);
      }
      repo.sign(NOW);
      const metadata = publishedFiles(repo);
      const trusted = loadTrustedMetadata(metadata, { now: NOW, expiry: 'ignore' });
      const never = { state: 'never' as const, version: undefined, highestVersion: 0, ageDays: undefined, expires: undefined, list: undefined };
      const verifier = buildImageVerifier({ trusted, files: metadata, hardwareId: 'bench', floors: { rootVersion: 0, securityVersion: 0, revocationVersion: 0, targetsVersion: 0 }, revocations: () => never, freshness: { ...DEFAULT_FRESHNESS_POLICY, onNever: 'allow' } });

      const ours = async (): Promise<number> => {
        const t0 = performance.now();
        for (let i = 0; i < IMAGES; i++) {
          const o = await checkImage(verifier, fixedImage({ target: `apps/image-${i}.bin`, path: files[i], kind: 'app' }), NOW);
          if (!o.verdict.ok) throw new Error(`bench image ${i} refused: ${o.verdict.code}`);
        }
        return performance.now() - t0;
      };
      const openssl = async (): Promise<number> => {
        const t0 = performance.now();
        await run('openssl', ['dgst', '-sha256', ...files], { maxBuffer: 16 * MiB });
        return performance.now() - t0;
      };
      // interleaved, best of 3 each, so both see the same page cache and CPU state
      const a: number[] = [];
      const b: number[] = [];
      for (let i = 0; i < 3; i++) {
        a.push(await ours());
        b.push(await openssl());
      }
      const oursMs = Math.min(...a);
      const opensslMs = Math.min(...b);
      const gbps = (ms: number): string => `${(TOTAL / 1e9 / (ms / 1000)).toFixed(2)} GB/s`;
      const small = join(dir, 'small.bin');
      await writeImage(small, 4 * MiB);
      const rssSmall = await peakRss(small);
      await rm(dir, { recursive: true, force: true }); // make room before the large image
      const large = join(await mkdtemp(join(tmpdir(), 'edgeseal-bench-rss-')), 'large.bin');
      await writeImage(large, LARGE);
      const rssLarge = await peakRss(large).finally(() => rm(join(large, '..'), { recursive: true, force: true }));
      return [
        row(`boot check (${IMAGES} images, ${TOTAL / MiB} MiB)`, oursMs, `${gbps(oursMs)}; ratio to openssl ${(opensslMs / oursMs).toFixed(2)}× (target ≥ 0.95)`),
        row(`openssl dgst -sha256 (same files)`, opensslMs, gbps(opensslMs)),
        row(`peak RSS digesting 4 MiB`, 0, `${(rssSmall / MiB).toFixed(1)} MB`),
        row(`peak RSS digesting ${LARGE / MiB} MiB`, 0, `${(rssLarge / MiB).toFixed(1)} MB (target: flat, < 100 MB)`),
      ];
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  for (const r of await bootCheckBench.run()) process.stdout.write(`${r.op.padEnd(44)} ${r.medianMs.toFixed(1).padStart(9)} ms   ${r.note ?? ''}\n`);
}
