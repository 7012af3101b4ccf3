import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { MAIN } from '../agent/cli-child.js';
import { publishTestRepo } from '../tuf/published.js';

// `edgeseal … | head -1`: the reader closes the pipe before the command has written everything.
function withClosedPipe(args: string[], closed: 'stdout' | 'stderr'): Promise<{ code: number | null; other: string }> {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const [gone, kept] = closed === 'stdout' ? [child.stdout, child.stderr] : [child.stderr, child.stdout];
  gone.destroy(); // before node has even started: its first write meets EPIPE
  let other = '';
  kept.on('data', (d: Buffer) => (other += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, other }));
  });
}

describe('CLI: a closed output pipe', () => {
  it('--help into a closed stdout: exit 0, no stack trace on stderr', async () => {
    const r = await withClosedPipe(['--help'], 'stdout');
    expect(r.other).to.equal('');
    expect(r.code).to.equal(0);
  });

  it('an unknown command into a closed stderr keeps its usage exit code (2)', async () => {
    const r = await withClosedPipe(['no-such-command'], 'stderr');
    expect(r.other).to.equal('');
    expect(r.code).to.equal(2);
  });

  it('a refused verify into a closed stdout still exits 1: the verdict, not the reader, sets the code', async () => {
    const published = await publishTestRepo();
    const work = await mkdtemp(join(tmpdir(), 'edgeseal-closed-pipe-'));
    try {
      const image = join(work, 'fw.bin');
      await writeFile(image, 'not the signed firmware');
      const args = ['verify', '--metadata', join(published.dir, 'metadata'), '--target', 'firmware/board-a/fw.bin', '--hardware-id', 'board-a', '--file', image];
      const r = await withClosedPipe(args, 'stdout');
      expect(r.other).to.equal('');
      expect(r.code).to.equal(1);
    } finally {
      await rm(work, { recursive: true, force: true });
      await rm(published.dir, { recursive: true, force: true });
    }
  });
});
