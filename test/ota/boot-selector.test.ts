import { expect } from 'chai';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BootSelector } from '../../src/ota/boot-selector.js';
import { nextBootSlot } from '../../src/ota/boot-selector.js';
import { CommandBootSelector, type CommandBootSelectorConfig } from '../../src/ota/boot-selector-command.js';
import { FileBootSelector } from '../../src/ota/boot-selector-file.js';
import { expectCodeAsync } from '../helpers/expect-code.js';

const TOOL = fileURLToPath(new URL('./fake-env-tool.js', import.meta.url));

// One contract, run against every implementation (as MQTT.js does for its stores).
function bootSelectorContract(name: string, build: () => Promise<BootSelector>): void {
  describe(`${name}: boot selector contract`, () => {
    it('starts on A with no trial armed', async () => {
      const s = await build();
      expect(await s.state()).to.deep.equal({ active: 'A', good: 'A', trySlot: null, tryCount: 0 });
      expect(await s.active()).to.equal('A');
    });

    it('arms a trial without touching the fallback, and markGood commits and disarms it', async () => {
      const s = await build();
      await s.setTryOnce('B');
      expect(await s.state()).to.include({ good: 'A', trySlot: 'B', tryCount: 1 });
      expect(nextBootSlot(await s.state())).to.equal('B');
      await s.setTryOnce('B', 3);
      expect(await s.state()).to.include({ tryCount: 3 });
      await s.markGood('B');
      expect(await s.state()).to.include({ good: 'B', trySlot: null, tryCount: 0 });
      expect(nextBootSlot(await s.state())).to.equal('B');
    });

    it('clearTry abandons a trial and keeps the fallback', async () => {
      const s = await build();
      await s.setTryOnce('B', 2);
      await s.clearTry();
      expect(await s.state()).to.include({ good: 'A', trySlot: null, tryCount: 0 });
      expect(nextBootSlot(await s.state())).to.equal('A');
    });
  });
}

bootSelectorContract('FileBootSelector', async () => FileBootSelector.create(join(await mkdtemp(join(tmpdir(), 'es-bs-')), 'boot.json'), 'A'));

async function envFile(dirName = 'es-env-'): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), dirName)), 'grubenv');
  await writeFile(file, 'edgeseal_booted=A\nedgeseal_good=A\nother=keep\n');
  return file;
}
const grubStyle = (file: string): CommandBootSelectorConfig => ({ print: [process.execPath, TOOL, file, 'list'], set: [process.execPath, TOOL, file, 'set'], setStyle: 'assign' });
const ubootStyle = (file: string): CommandBootSelectorConfig => ({ print: [process.execPath, TOOL, file, 'list'], set: [process.execPath, TOOL, file, 'setpair'], setStyle: 'pair' });

bootSelectorContract('CommandBootSelector (grub-editenv style)', async () => new CommandBootSelector(grubStyle(await envFile())));
bootSelectorContract('CommandBootSelector (fw_setenv style)', async () => new CommandBootSelector(ubootStyle(await envFile())));

describe('FileBootSelector bootloader simulation', () => {
  it('boots a trial once, then falls back to the good slot', async () => {
    const s = await FileBootSelector.create(join(await mkdtemp(join(tmpdir(), 'es-bs-')), 'boot.json'), 'A');
    await s.setTryOnce('B');
    expect(await s.simulateBoot()).to.equal('B');
    expect(await s.state()).to.deep.equal({ active: 'B', good: 'A', trySlot: 'B', tryCount: 0 });
    expect(await s.simulateBoot()).to.equal('A');
  });

  it('reports STORAGE_ERROR for a missing or malformed file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'es-bs-'));
    await expectCodeAsync(() => new FileBootSelector(join(dir, 'none.json')).state(), 'STORAGE_ERROR');
    await writeFile(join(dir, 'bad.json'), '{"active":"C","good":"A","trySlot":null,"tryCount":0}');
    await expectCodeAsync(() => new FileBootSelector(join(dir, 'bad.json')).state(), 'STORAGE_ERROR');
  });
});

describe('CommandBootSelector', () => {
  it('writes the variables the bootloader reads and leaves the others alone', async () => {
    const file = await envFile();
    await new CommandBootSelector(grubStyle(file)).setTryOnce('B');
    expect(await readFile(file, 'utf8')).to.equal('edgeseal_booted=A\nedgeseal_good=A\nother=keep\nedgeseal_tries=1\nedgeseal_try=B\n');
  });

  it('deletes the trial variables with fw_setenv style (no value) when disarming', async () => {
    const file = await envFile();
    const s = new CommandBootSelector(ubootStyle(file));
    await s.setTryOnce('B');
    await s.markGood('B');
    expect(await readFile(file, 'utf8')).to.equal('edgeseal_booted=A\nedgeseal_good=B\nother=keep\nedgeseal_tries=0\n');
  });

  it('uses configured variable names and reads the booted slot from the kernel command line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'es-env-'));
    const file = join(dir, 'env');
    await writeFile(file, 'slot_good=A\n');
    await writeFile(join(dir, 'cmdline'), 'console=ttyS0 root=/dev/mmcblk0p3 edgeseal.slot=B quiet\n');
    const s = new CommandBootSelector({ ...grubStyle(file), vars: { good: 'slot_good' }, cmdline: { path: join(dir, 'cmdline'), key: 'edgeseal.slot' } });
    expect(await s.state()).to.deep.equal({ active: 'B', good: 'A', trySlot: null, tryCount: 0 });
  });

  it('passes arguments without a shell, so metacharacters in paths stay literal', async () => {
    const file = await envFile('es-env-$(touch PWNED); echo ');
    const s = new CommandBootSelector(grubStyle(file));
    await s.markGood('B');
    expect(await s.state()).to.include({ good: 'B' });
    expect(await readdir(join(file, '..'))).to.deep.equal(['grubenv']);
    expect(await readdir(process.cwd())).not.to.include('PWNED');
  });

  it('reports STORAGE_ERROR when the command fails or the environment lacks the slot variables', async () => {
    const failing = new CommandBootSelector({ print: [process.execPath, '-e', 'process.stderr.write("no env"); process.exit(1)'], set: ['true'], setStyle: 'assign' });
    const err = await expectCodeAsync(() => failing.state(), 'STORAGE_ERROR');
    expect(err.message).to.contain('no env');
    const file = await envFile();
    await writeFile(file, 'edgeseal_booted=A\n');
    await expectCodeAsync(() => new CommandBootSelector(grubStyle(file)).state(), 'STORAGE_ERROR');
    await expectCodeAsync(() => new CommandBootSelector({ print: ['/nonexistent/fw_printenv'], set: ['x'], setStyle: 'pair' }).state(), 'STORAGE_ERROR');
  });
});
