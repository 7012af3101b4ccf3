import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { MAIN } from '../agent/cli-child.js';

// The units' SystemCallFilter= is inherited by everything the agent runs (Node, swtpm in the demo,
// systemd-notify, grub-editenv, fw_setenv). Without systemd as PID 1, the same filter is loaded with libseccomp and
// the real programs run under it: a group the agent needs missing from the filter fails here, not on a board.

const run = promisify(execFile);
const SECCOMP = fileURLToPath(new URL('../../../test/helpers/seccomp_run.py', import.meta.url));
const ERRNO: Record<string, number> = { EPERM: 1 };

// The filter of a unit file: SystemCallFilter= lines (allow, then ~deny) and SystemCallErrorNumber=.
async function unitFilter(name: string): Promise<{ allow: string; deny: string; errno: number }> {
  const text = await readFile(new URL(`../../../systemd/${name}`, import.meta.url), 'utf8');
  const values = [...text.matchAll(/^SystemCallFilter=(.*)$/gm)].map((m) => m[1]);
  const errno = ERRNO[/^SystemCallErrorNumber=(\w+)$/m.exec(text)?.[1] ?? ''];
  expect(values.length, `${name}: SystemCallFilter=`).to.be.greaterThan(0);
  expect(errno, `${name}: SystemCallErrorNumber=EPERM (a refused call is an error, not a kill)`).to.equal(1);
  return { allow: values.filter((v) => !v.startsWith('~')).join(' '), deny: values.filter((v) => v.startsWith('~')).map((v) => v.slice(1)).join(' '), errno: errno };
}

async function filtered(unit: string, argv: string[], cwd: string): Promise<{ code: number; out: string }> {
  const f = await unitFilter(unit);
  try {
    const { stdout, stderr } = await run('python3', [SECCOMP, String(f.errno), f.allow, f.deny, '--', ...argv], { cwd, timeout: 60_000 });
    return { code: 0, out: `${stdout}${stderr}` };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: `${e.stdout}${e.stderr}` };
  }
}

describe("the units' system call filter, loaded with libseccomp", function () {
  this.timeout(90_000);
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'es-seccomp-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('is in force: a call from @resources fails with EPERM', async () => {
    const r = await filtered('edgeseal-agent.service', [process.execPath, '-e', "try { require('os').setPriority(0, 5); console.log('allowed') } catch (e) { console.log(e.info.code) }"], dir);
    expect(r.out.trim()).to.equal('EPERM');
  });

  it('the agent unit: the demo runs under it (Node, swtpm, TPM sessions, HTTP, install, commit, refusals)', async () => {
    const r = await filtered('edgeseal-agent.service', [process.execPath, MAIN, 'demo'], dir);
    expect(r.code, r.out).to.equal(0);
    expect(r.out).to.match(/done in [\d.]+ s/);
  });

  it('the agent unit: fw_setenv and fw_printenv (libubootenv) lock, write and read a file-backed U-Boot environment under it', async () => {
    await writeFile(join(dir, 'env.bin'), Buffer.alloc(0x4000));
    await writeFile(join(dir, 'fw_env.config'), `${join(dir, 'env.bin')} 0x0 0x4000\n`);
    await writeFile(join(dir, 'defenv'), 'bootdelay=3\n');
    const cfg = ['-c', join(dir, 'fw_env.config'), '-f', join(dir, 'defenv')];
    const r = await filtered('edgeseal-agent.service', ['sh', '-c', `fw_setenv ${cfg.join(' ')} edgeseal_try B && fw_printenv ${cfg.join(' ')}`], dir);
    expect(r.code, r.out).to.equal(0);
    expect(r.out).to.contain('edgeseal_try=B');
  });

  it('the boot check unit: grub-editenv creates, sets and lists an environment under it', async () => {
    const env = join(dir, 'grubenv');
    const r = await filtered('edgeseal-boot-check.service', ['sh', '-c', `grub-editenv ${env} create && grub-editenv ${env} set edgeseal_try=B && grub-editenv ${env} list`], dir);
    expect(r.code, r.out).to.equal(0);
    expect(r.out).to.contain('edgeseal_try=B');
  });
});
