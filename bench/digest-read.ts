import { createHash } from 'node:crypto';
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { digestFile } from '../src/io/file-digest.js';
import { measure, type Bench } from './measure.js';
import { writeImage } from './image-file.js';

// Which way of reading a file into sha256 is fastest on this machine (issue 12 B): the strategy
// src/io/file-digest.ts uses was picked from these rows, and they keep showing the comparison.
const MiB = 1024 * 1024;
const QUICK = process.env.BENCH_QUICK === '1';
const SIZE = QUICK ? 64 * MiB : 1024 * MiB;

async function fileHandleRead(path: string, chunk: number): Promise<string> {
  const fh = await open(path, 'r');
  const hash = createHash('sha256');
  const buf = Buffer.allocUnsafe(chunk);
  try {
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, chunk, null);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
    }
  } finally {
    await fh.close();
  }
  return hash.digest('hex');
}

function readSyncLoop(path: string, chunk: number): Promise<string> {
  const fd = openSync(path, 'r');
  const hash = createHash('sha256');
  const buf = Buffer.allocUnsafe(chunk);
  try {
    for (let n = readSync(fd, buf, 0, chunk, null); n > 0; n = readSync(fd, buf, 0, chunk, null)) hash.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return Promise.resolve(hash.digest('hex'));
}

async function readStream(path: string, chunk: number): Promise<string> {
  const hash = createHash('sha256');
  for await (const part of createReadStream(path, { highWaterMark: chunk })) hash.update(part as Buffer);
  return hash.digest('hex');
}

const STRATEGIES: readonly { readonly name: string; readonly run: (path: string) => Promise<string> }[] = [
  { name: 'FileHandle.read, 1 MiB buffer', run: (p) => fileHandleRead(p, MiB) },
  { name: 'FileHandle.read, 4 MiB buffer', run: (p) => fileHandleRead(p, 4 * MiB) },
  // read sizes around the CPU caches: a buffer that stays in L2 is hashed from cache, not memory
  ...[64, 128, 256, 512].map((kib) => ({ name: `fs.readSync, one ${kib} KiB buffer`, run: (p: string) => readSyncLoop(p, kib * 1024) })),
  { name: 'fs.readSync, one 1 MiB buffer', run: (p) => readSyncLoop(p, MiB) },
  { name: 'fs.readSync, one 4 MiB buffer', run: (p) => readSyncLoop(p, 4 * MiB) },
  { name: 'createReadStream, highWaterMark 4 MiB', run: (p) => readStream(p, 4 * MiB) },
  { name: 'digestFile (what the agent uses)', run: async (p) => (await digestFile(p)).sha256 },
];

export const digestReadBench: Bench = {
  name: `digest read strategies: one ${SIZE / MiB} MiB file, hot cache${QUICK ? ' (BENCH_QUICK)' : ''}`,
  async run() {
    const dir = await mkdtemp(join(tmpdir(), 'edgeseal-bench-read-'));
    try {
      const path = join(dir, 'image.bin');
      const expected = await writeImage(path, SIZE);
      const rows = [];
      for (const s of STRATEGIES) {
        if ((await s.run(path)) !== expected) throw new Error(`${s.name}: wrong digest`);
        const r = await measure(s.name, QUICK ? 5 : 3, () => s.run(path));
        rows.push({ ...r, note: `${(SIZE / 1e9 / (r.medianMs / 1000)).toFixed(2)} GB/s` });
      }
      return rows;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};
