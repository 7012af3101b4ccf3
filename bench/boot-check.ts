import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { bindDigests } from '../src/agent/boot-digests.js';
import { checkImage } from '../src/agent/check-image.js';
import { buildImageVerifier, type ImageVerifier } from '../src/agent/image-verifier.js';
import { fixedImage, type InstalledImage } from '../src/agent/installed-images.js';
import { keyFromSeed } from '../src/crypto/ed25519.js';
import { digestPoolSize } from '../src/io/digest-pool.js';
import { DEFAULT_FRESHNESS_POLICY } from '../src/revocation/policy.js';
import { Repository } from '../src/repo/repository.js';
import { loadTrustedMetadata } from '../src/tuf/offline/load-trusted.js';
import { publishedFiles } from '../test/helpers/tuf-repo.js';
import { writeImage } from './image-file.js';
import type { Bench, BenchResult } from './measure.js';

const run = promisify(execFile);
const MiB = 1024 * 1024;
// BENCH_QUICK=1: 128 MiB over 50 images and a 256 MiB single image (instead of 1 GiB each)
const QUICK = process.env.BENCH_QUICK === '1';
const TOTAL = QUICK ? 128 * MiB : 1024 * MiB;
const SINGLE = QUICK ? 256 * MiB : 1024 * MiB;
const IMAGES = 50;
const NOW = new Date('2026-01-01T12:00:00Z');

const key = (label: string): ReturnType<typeof keyFromSeed> => keyFromSeed(createHash('sha256').update(`bench/${label}`).digest());

// Peak RSS of a fresh process that runs `code` (an ES module body; it prints nothing itself). VmHWM of
// its own address space: getrusage's maxRSS keeps the spawning parent's peak across fork and exec.
async function peakRss(code: string): Promise<number> {
  const probe = `${code}; const { readFileSync } = await import('node:fs'); process.stdout.write(String(Number(/VmHWM:\\s+(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) * 1024));`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', probe], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (c) => (c === 0 ? resolve(Number(out)) : reject(new Error(`rss probe exited ${c}`))));
  });
}
const moduleUrl = (path: string): string => JSON.stringify(new URL(path, import.meta.url).href);

// Empties the page cache (root, where the kernel permits it); false where it may not.
async function dropCaches(): Promise<boolean> {
  await run('sync');
  return writeFile('/proc/sys/vm/drop_caches', '3').then(
    () => true,
    () => false,
  );
}

// Signed metadata for the files (loaded once, outside every timed span, as no unseal is either).
function verifierFor(files: readonly { name: string; length: number; sha256: string }[]): ImageVerifier {
  const repo = Repository.init({ keys: { root: [key('root')], targets: [key('targets')], snapshot: [key('snapshot')], timestamp: [key('timestamp')] } });
  for (const f of files) repo.addTarget(f.name, { length: f.length, sha256: f.sha256, custom: { hardwareIds: ['bench'], version: '1.0.0', securityVersion: 0, kind: 'app' } });
  repo.sign(NOW);
  const metadata = publishedFiles(repo);
  const trusted = loadTrustedMetadata(metadata, { now: NOW, expiry: 'ignore' });
  const never = { state: 'never' as const, version: undefined, highestVersion: 0, ageDays: undefined, expires: undefined, list: undefined };
  return buildImageVerifier({ trusted, files: metadata, hardwareId: 'bench', floors: { rootVersion: 0, securityVersion: 0, revocationVersion: 0, targetsVersion: 0 }, revocations: () => never, freshness: { ...DEFAULT_FRESHNESS_POLICY, onNever: 'allow' } });
}

// The boot check's digest-and-verdict loop as runBootCheck runs it (pool for several files, progress
// reported over 64 MiB: its lines go nowhere here), timed.
async function bootCheck(verifier: ImageVerifier, images: readonly InstalledImage[]): Promise<number> {
  const t0 = performance.now();
  const { images: bound, pool } = bindDigests(verifier, images, NOW, [], { progress: { log: () => undefined } });
  try {
    for (const image of bound) {
      const o = await checkImage(verifier, image, NOW);
      if (!o.verdict.ok) throw new Error(`bench image ${image.target} refused: ${o.verdict.code}`);
    }
  } finally {
    await pool?.close();
  }
  return performance.now() - t0;
}

// The same images one at a time on this thread (the boot check before the pool).
async function bootCheckSerial(verifier: ImageVerifier, images: readonly InstalledImage[]): Promise<number> {
  let ms = 0;
  for (const image of images) ms += await bootCheck(verifier, [image]);
  return ms;
}

async function openssl(files: readonly string[]): Promise<number> {
  const t0 = performance.now();
  await run('openssl', ['dgst', '-sha256', ...files], { maxBuffer: 16 * MiB });
  return performance.now() - t0;
}

// interleaved, best of 3 each, so both see the same page cache and CPU state
async function bestOf(a: () => Promise<number>, b: () => Promise<number>): Promise<[number, number]> {
  const as: number[] = [];
  const bs: number[] = [];
  for (let i = 0; i < 3; i++) {
    as.push(await a());
    bs.push(await b());
  }
  return [Math.min(...as), Math.min(...bs)];
}

const row = (op: string, ms: number, note: string): BenchResult => ({ op, iterations: 1, medianMs: ms, p95Ms: ms, note });
const gbps = (bytes: number, ms: number): string => `${(bytes / 1e9 / (ms / 1000)).toFixed(2)} GB/s`;

export const bootCheckBench: Bench = {
  name: `boot check vs openssl dgst -sha256: ${IMAGES} images / ${TOTAL / MiB} MiB, one ${SINGLE / MiB} MiB image; metadata load and unseal outside the timed span${QUICK ? ' (BENCH_QUICK)' : ''}`,
  async run() {
    const dir = await mkdtemp(join(tmpdir(), 'edgeseal-bench-boot-'));
    try {
      const length = Math.floor(TOTAL / IMAGES);
      const files = [];
      for (let i = 0; i < IMAGES; i++) {
        const path = join(dir, `image-${i}.bin`);
        files.push({ name: `apps/image-${i}.bin`, path, length, sha256: await writeImage(path, length) });
      }
      const single = { name: 'apps/single.bin', path: join(dir, 'single.bin'), length: SINGLE, sha256: '' };
      single.sha256 = await writeImage(single.path, SINGLE);
      const verifier = verifierFor([...files, single]);
      const images = files.map((f) => fixedImage({ target: f.name, path: f.path, kind: 'app' }));
      const paths = files.map((f) => f.path);
      const workers = digestPoolSize(IMAGES);

      const [manyMs, manySsl] = await bestOf(() => bootCheck(verifier, images), () => openssl(paths));
      const serial: number[] = [];
      for (let i = 0; i < 3; i++) serial.push(await bootCheckSerial(verifier, images));
      const oneImage = [fixedImage({ target: single.name, path: single.path, kind: 'app' })];
      const [oneMs, oneSsl] = await bestOf(() => bootCheck(verifier, oneImage), () => openssl([single.path]));
      const rows = [
        row(`boot check, ${IMAGES} images (${workers} workers)`, manyMs, `${gbps(TOTAL, manyMs)}; ${(manySsl / manyMs).toFixed(2)}× openssl (goal ≥ 1.6)`),
        row(`boot check, ${IMAGES} images, one thread`, Math.min(...serial), `${gbps(TOTAL, Math.min(...serial))}; the pool is ${(Math.min(...serial) / manyMs).toFixed(2)}× this`),
        row(`openssl dgst -sha256 f1 … f${IMAGES}`, manySsl, gbps(TOTAL, manySsl)),
        row(`boot check, one ${SINGLE / MiB} MiB image (one worker)`, oneMs, `${gbps(SINGLE, oneMs)}; ${(oneSsl / oneMs).toFixed(2)}× openssl (goal ≥ 0.95)`),
        row(`openssl dgst -sha256 (same image)`, oneSsl, gbps(SINGLE, oneSsl)),
      ];

      // cold cache: what a boot sees; parallel workers must never be slower than one thread here
      if (await dropCaches()) {
        const coldPool = await bootCheck(verifier, images);
        await dropCaches();
        const coldSerial = await bootCheckSerial(verifier, images);
        await dropCaches();
        const coldSsl = await openssl(paths);
        rows.push(
          row(`cold cache: boot check, ${workers} workers`, coldPool, `${gbps(TOTAL, coldPool)}; ${(coldSerial / coldPool).toFixed(2)}× one thread, ${(coldSsl / coldPool).toFixed(2)}× openssl`),
          row(`cold cache: boot check, one thread`, coldSerial, gbps(TOTAL, coldSerial)),
          row(`cold cache: openssl dgst -sha256`, coldSsl, gbps(TOTAL, coldSsl)),
        );
      } else {
        rows.push(row('cold cache (drop_caches)', 0, 'skipped: /proc/sys/vm/drop_caches not writable here'));
      }

      const pool = moduleUrl('../src/io/digest-pool.js');
      const digest = moduleUrl('../src/io/file-digest.js');
      const rssMany = await peakRss(`const { openDigestPool } = await import(${pool}); const p = openDigestPool(${workers}); await Promise.all(${JSON.stringify(paths)}.map((path) => p.digest({ path }))); await p.close()`);
      const rssOne = await peakRss(`const { digestFile } = await import(${digest}); await digestFile(${JSON.stringify(single.path)})`);
      rows.push(
        row(`peak RSS, ${IMAGES} images on ${workers} workers`, 0, `${(rssMany / MiB).toFixed(1)} MiB (goal < 100)`),
        row(`peak RSS, one ${SINGLE / MiB} MiB image, main thread`, 0, `${(rssOne / MiB).toFixed(1)} MiB (flat: 1 MiB buffer)`),
      );
      return rows;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  for (const r of await bootCheckBench.run()) process.stdout.write(`${r.op.padEnd(52)} ${r.medianMs.toFixed(1).padStart(9)} ms   ${r.note ?? ''}\n`);
}
