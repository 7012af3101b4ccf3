import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePortPair } from '../../src/demo/swtpm-process.js';
import { MAIN } from '../agent/cli-child.js';

// Finding 10: the README's device walk must work literally. The block between the device-walk markers
// runs verbatim in bash (set -e: every step's exit code counts) in an empty directory, with `edgeseal`
// on PATH as the built CLI and SWTPM_PORT a free loopback port pair; the block starts and stops swtpm.

const README = new URL('../../../README.md', import.meta.url);

async function walkBlock(): Promise<string> {
  const text = await readFile(README, 'utf8');
  const m = /<!-- device-walk:begin -->\n```sh\n([\s\S]*?)```\n<!-- device-walk:end -->/.exec(text);
  expect(m, 'a ```sh block between <!-- device-walk:begin --> and <!-- device-walk:end --> in README.md').to.not.equal(null);
  return m![1];
}

function bash(script: string, cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

describe('README device walk (swtpm), run verbatim', function () {
  this.timeout(60_000);
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'edgeseal-walk-'));
  });

  afterEach(async () => {
    // a step that failed under set -e leaves the walk's swtpm running: stop it by the pid it wrote
    const pid = Number((await readFile(join(dir, 'tpm', 'swtpm.pid'), 'utf8').catch(() => '')).trim());
    if (Number.isSafeInteger(pid) && pid > 0) {
      try {
        process.kill(pid);
      } catch {
        // already stopped by the walk's last line
      }
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('publishes, provisions with the cache filled, boot-checks slot A, updates to slot B and shows it', async () => {
    const bin = join(dir, 'bin');
    await mkdir(bin);
    await writeFile(join(bin, 'edgeseal'), `#!/bin/sh\nexec '${process.execPath}' '${MAIN}' "$@"\n`);
    await chmod(join(bin, 'edgeseal'), 0o755);
    const work = join(dir, 'walk');
    await mkdir(work);
    const port = await freePortPair();
    const r = await bash(await walkBlock(), work, { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}`, SWTPM_PORT: String(port) });
    expect(r.code, `${r.out}\n${r.err}`).to.equal(0);
    expect(r.out).to.match(/cache\s+✔ promoted: root v1, targets v1/);
    expect(r.out).to.contain('boot check: all images verified (root v1)');
    expect(r.out).to.match(/✔ firmware\/board-a\/fw-1\.0\.0\.bin 1\.0\.0\s+slot A/);
    expect(r.out).to.contain('firmware/board-a/fw-1.1.0.bin 1.1.0 staged into slot B; trial boot armed');
    expect(r.out).to.match(/slot B\s+firmware\/board-a\/fw-1\.1\.0\.bin 1\.1\.0 .*\[trial×1\]/);
    expect(JSON.parse(await readFile(join(work, 'bootsel.json'), 'utf8'))).to.deep.equal({ active: 'A', good: 'A', trySlot: 'B', tryCount: 1 });
  });
});
