import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CommandBootSelector } from '../../src/ota/boot-selector-command.js';
import { readJournal } from '../../src/ota/install-journal.js';
import { grubBoard, SELECT_CFG, type GrubBoard } from './grub-emu.js';
import { buildInstaller, readFloor, setupDevice, V1_TARGET, V2_TARGET, V2_VERIFIED, type RigPaths } from './install-rig.js';

const run = promisify(execFile);

// The GRUB reference snippet (docs/bootloader/grub/edgeseal-select.cfg) run by GRUB itself (grub-emu)
// against the grubenv the agent's command boot selector writes with grub-editenv: the try counter
// ends a trial whose agent never runs, and a commit keeps the new slot.
describe('GRUB snippet and the grub-editenv boot selector (grub-emu)', function () {
  this.timeout(60_000);

  const selector = (g: GrubBoard): CommandBootSelector => new CommandBootSelector({ print: ['grub-editenv', g.env, 'list'], set: ['grub-editenv', g.env, 'set'], setStyle: 'assign' });
  // a device running v1 from slot A, its grubenv as the image builder leaves it (empty) and booted once
  const device = async (): Promise<{ p: RigPaths; g: GrubBoard; sel: CommandBootSelector }> => {
    const p = await setupDevice(await mkdtemp(join(tmpdir(), 'es-grub-')));
    const g = await grubBoard(p.dir);
    expect(await g.boot(), 'an empty grubenv boots slot A').to.equal('A');
    return { p, g, sel: selector(g) };
  };
  const v1 = { slot: 'A' as const, name: V1_TARGET.name, sha256: V1_TARGET.sha256, securityVersion: V1_TARGET.securityVersion };

  it('the snippet is valid GRUB script (grub-script-check)', async () => {
    await run('grub-script-check', [SELECT_CFG]);
  });

  it('a trial whose agent never starts: maxTries boots of B, then GRUB falls back to A and the next start rolls back', async () => {
    const { p, g, sel } = await device();
    const installer = buildInstaller(p, { tries: 2 }, (parts) => ({ ...parts, selector: sel }));
    expect((await installer.install(V2_TARGET)).next).to.equal('reboot');
    expect(await sel.state()).to.deep.equal({ active: 'A', good: 'A', trySlot: 'B', tryCount: 2 });
    expect((await stat(g.env)).size, 'grubenv stays one 1 KiB block').to.equal(1024);
    // kernel panics on B: the agent never runs, each boot spends a try
    expect(await g.boot()).to.equal('B');
    expect(await sel.state()).to.deep.equal({ active: 'B', good: 'A', trySlot: 'B', tryCount: 1 });
    expect(await g.boot()).to.equal('B');
    expect(await g.boot(), 'tries exhausted: the good slot').to.equal('A');
    expect(await g.boot()).to.equal('A');
    const step = await installer.resume(v1);
    expect(step).to.deep.include({ next: 'none' });
    const j = await readJournal(p.journal);
    expect(j.state).to.equal('rolled-back');
    expect(j.install?.outcome?.code).to.equal('INSTALL_FAILED');
    expect(await sel.state()).to.deep.equal({ active: 'A', good: 'A', trySlot: null, tryCount: 0 });
    expect(await readFloor(p)).to.equal(1);
  });

  it('a confirmed trial: the commit marks B good in grubenv and GRUB keeps booting B', async () => {
    const { p, g, sel } = await device();
    const installer = buildInstaller(p, {}, (parts) => ({ ...parts, selector: sel }));
    await installer.install(V2_TARGET);
    expect(await g.boot()).to.equal('B');
    expect((await installer.resume(V2_VERIFIED)).next).to.equal('boot-check');
    expect((await installer.confirmBoot({ ok: true, verified: V2_VERIFIED })).journal.state).to.equal('committed');
    expect(await sel.state()).to.deep.equal({ active: 'B', good: 'B', trySlot: null, tryCount: 0 });
    expect(await g.boot()).to.equal('B');
    expect(await g.boot()).to.equal('B');
    expect(await readFloor(p)).to.equal(2);
  });

  it('counts down from the largest update.maxTries (10) one boot at a time', async () => {
    const { g, sel } = await device();
    await sel.setTryOnce('B', 10);
    const boots: string[] = [];
    for (let i = 0; i < 11; i++) boots.push(await g.boot());
    expect(boots.join('')).to.equal('BBBBBBBBBBA');
    expect(await sel.state()).to.deep.equal({ active: 'A', good: 'A', trySlot: 'B', tryCount: 0 });
  });
});
