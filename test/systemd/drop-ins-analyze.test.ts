import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { systemdDropIns, type UnitsInput } from '../../src/units/drop-ins.js';
import { grubInput, ubootInput } from '../units/unit-configs.js';

// systemd-analyze (systemd 252 here, not PID 1) reads the shipped units plus the generated drop-ins the way
// the manager would: verify must be clean, the parsed DeviceAllow= list must be exactly the generated one
// (so the empty assignment really resets the unit's own list), and the exposure must stay at 4.5 or better.

const run = promisify(execFile);
const UNITS = ['edgeseal-agent.service', 'edgeseal-boot-check.service', 'edgeseal-verified.target'];
const SERVICES = ['edgeseal-agent.service', 'edgeseal-boot-check.service'] as const;

async function analyze(args: string[]): Promise<{ code: number; text: string }> {
  try {
    const { stdout, stderr } = await run('systemd-analyze', args);
    return { code: 0, text: `${stdout}${stderr}` };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, text: `${e.stdout}${e.stderr}` };
  }
}

// The units (ExecStart pointed at an executable that exists here) and, if given, the generated drop-ins.
async function stage(input?: UnitsInput): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'es-dropins-'));
  for (const name of UNITS) {
    const text = await readFile(new URL(`../../../systemd/${name}`, import.meta.url), 'utf8');
    await writeFile(join(dir, name), text.replaceAll('/usr/bin/edgeseal', process.execPath));
  }
  for (const f of input ? systemdDropIns(input).files : []) {
    await mkdir(dirname(join(dir, f.path)), { recursive: true });
    await writeFile(join(dir, f.path), f.text);
  }
  return dir;
}

const complaints = (text: string, dir: string): string[] => text.split('\n').filter((l) => l.includes(dir));
const devices = (text: string): string[] => (/special devices: (.*?)\s+\d\.\d\s*$/m.exec(text)?.[1] ?? '').split(' ').sort();
const exposure = (text: string): number => Number(/Overall exposure level for \S+: (\d+\.\d)/.exec(text)?.[1]);

describe('systemd units with generated drop-ins (systemd-analyze)', () => {
  const dirs: string[] = [];
  after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
  const staged = async (input?: UnitsInput): Promise<string> => {
    const dir = await stage(input);
    dirs.push(dir);
    return dir;
  };

  for (const [name, input] of [['U-Boot, block slots', ubootInput()], ['GRUB, file slots, /dev/tpm0', grubInput()]] as const) {
    it(`${name}: verify is clean and reads the drop-ins (a broken line in one is reported)`, async () => {
      const dir = await staged(input);
      const paths = SERVICES.map((s) => join(dir, s));
      expect(complaints((await analyze(['verify', ...paths])).text, dir)).to.deep.equal([]);
      await appendFile(join(dir, 'edgeseal-agent.service.d/50-slots.conf'), 'DeviceAllow=/dev/null rwz\n');
      expect(complaints((await analyze(['verify', ...paths])).text, dir).join('\n')).to.contain("Invalid device rights 'rwz'");
    });
  }

  it('the parsed device list is exactly the generated one: the unit’s own DeviceAllow= is reset', async () => {
    const dir = await staged(ubootInput());
    const agent = await analyze(['security', '--offline=yes', join(dir, 'edgeseal-agent.service')]);
    // char-rtc:r is ProtectClock=yes's own read-only allowance
    expect(devices(agent.text)).to.deep.equal(['/dev/disk/by-partlabel/rootfs_a:rw', '/dev/disk/by-partlabel/rootfs_b:rw', '/dev/mmcblk0:rw', '/dev/mmcblk0boot0:r', '/dev/tpmrm0:rw', 'char-rtc:r']);
    const check = await analyze(['security', '--offline=yes', join(dir, 'edgeseal-boot-check.service')]);
    expect(devices(check.text)).to.deep.equal(['/dev/disk/by-partlabel/rootfs_a:r', '/dev/disk/by-partlabel/rootfs_b:r', '/dev/mmcblk0:r', '/dev/mmcblk0boot0:r', '/dev/tpmrm0:rw', 'char-rtc:r']);
  });

  for (const [name, input] of [['shipped units alone', undefined], ['with U-Boot drop-ins', ubootInput()], ['with GRUB drop-ins', grubInput()]] as const) {
    it(`exposure 4.5 or better (systemd-analyze security --offline=yes --threshold=45): ${name}`, async () => {
      const dir = await staged(input);
      for (const service of SERVICES) {
        const { code, text } = await analyze(['security', '--offline=yes', '--threshold=45', join(dir, service)]);
        expect(exposure(text), `${service}\n${text}`).to.be.at.most(4.5);
        expect(code, `${service}: --threshold=45 exit status`).to.equal(0);
      }
    });
  }

  it('why hostile paths are refused, not written: systemd splits a path at spaces and expands % specifiers', async () => {
    const dir = await staged();
    await mkdir(join(dir, 'edgeseal-agent.service.d'));
    await writeFile(join(dir, 'edgeseal-agent.service.d/60-hostile.conf'), '[Service]\nReadWritePaths=-/srv/my slots/%n\n');
    const found = complaints((await analyze(['verify', join(dir, 'edgeseal-agent.service')])).text, dir).join('\n');
    expect(found).to.contain('ignoring: slots/edgeseal-agent.service');
  });
});
