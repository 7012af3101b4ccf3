import { expect } from 'chai';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { FileBootSelector } from '../../src/ota/boot-selector-file.js';
import { BlockSlotBackend } from '../../src/ota/slot-block.js';
import type { InstallJournal } from '../../src/ota/install-journal.js';
import { readJournal } from '../../src/ota/install-journal.js';
import { expectCodeAsync } from '../helpers/expect-code.js';
import { buildInstaller, readFloor, setupDevice, V1, V1_TARGET, V2, V2_TARGET, V2_VERIFIED, type RigPaths } from './install-rig.js';

async function device(published?: Uint8Array): Promise<RigPaths> {
  return setupDevice(await mkdtemp(join(tmpdir(), 'es-install-')), published);
}

describe('Installer (install state machine)', () => {
  it('walks idle → downloading (streaming into the slot) → staged → trying, arms one trial boot, stages nothing on disk', async () => {
    const p = await device();
    const seen: InstallJournal[] = [];
    const step = await buildInstaller(p, { onTransition: (j) => seen.push(j) }).install(V2_TARGET);
    expect(step.next).to.equal('reboot');
    expect(seen.map((j) => j.state)).to.deep.equal(['downloading', 'downloading', 'staged', 'trying']);
    expect(seen.map((j) => j.install?.offset)).to.deep.equal([undefined, V2_TARGET.length, undefined, undefined]);
    expect(seen.map((j) => j.seq)).to.deep.equal([1, 2, 3, 4]);
    expect(step.journal.install).to.deep.include({ fromSlot: 'A', toSlot: 'B', floorsRaised: false });
    expect(await new FileBootSelector(p.boot).state()).to.deep.equal({ active: 'A', good: 'A', trySlot: 'B', tryCount: 1 });
    expect(await new BlockSlotBackend(p.devices).measure('B', V2.length)).to.deep.equal({ length: V2_TARGET.length, sha256: V2_TARGET.sha256 });
    expect(await readdir(p.staging).catch(() => [])).to.deep.equal([]);
    expect(await readJournal(p.journal)).to.deep.equal(step.journal);
  });

  it('commits a trial boot whose check passes: marks the slot good, then raises the floors', async () => {
    const p = await device();
    const calls: string[] = [];
    const installer = buildInstaller(p, {}, (parts) => ({
      ...parts,
      selector: Object.assign(Object.create(parts.selector) as typeof parts.selector, {
        markGood: async (s: 'A' | 'B') => {
          calls.push(`markGood ${s}`);
          await parts.selector.markGood(s);
        },
      }),
      raiseFloors: async (t) => {
        calls.push(`raiseFloors ${t.securityVersion}`);
        await parts.raiseFloors(t);
      },
    }));
    await installer.install(V2_TARGET);
    expect(await new FileBootSelector(p.boot).simulateBoot()).to.equal('B');
    expect((await installer.resume()).next).to.equal('boot-check');
    expect(await readFloor(p)).to.equal(1);
    const step = await installer.confirmBoot({ ok: true, verified: V2_VERIFIED });
    expect(step).to.deep.include({ next: 'none' });
    expect(step.journal).to.deep.include({ state: 'committed' });
    expect(step.journal.install?.floorsRaised).to.be.true;
    expect(calls).to.deep.equal(['markGood B', 'raiseFloors 2']);
    expect(await readFloor(p)).to.equal(2);
    expect(await new FileBootSelector(p.boot).state()).to.deep.equal({ active: 'B', good: 'B', trySlot: null, tryCount: 0 });
    expect((await installer.resume()).next).to.equal('none');
  });

  it('raises floors only from the verified image: a journal that disagrees with it raises nothing and says why', async () => {
    const p = await device();
    const installer = buildInstaller(p);
    await installer.install(V2_TARGET);
    // an attacker with disk write edits the unauthenticated journal before the trial boot
    const j = await readJournal(p.journal);
    await writeFile(p.journal, JSON.stringify({ ...j, install: { ...j.install!, target: { ...V2_TARGET, securityVersion: 4097 } } }));
    await new FileBootSelector(p.boot).simulateBoot();
    const step = await installer.confirmBoot({ ok: true, verified: V2_VERIFIED });
    expect(step.journal).to.deep.include({ state: 'committed' });
    expect(step.journal.install).to.deep.include({ floorsRaised: false });
    expect(step.journal.install?.outcome?.code).to.equal('FLOOR_VIOLATION');
    expect(step.journal.install?.outcome?.message).to.contain('securityVersion 2').and.contain('securityVersion 4097');
    expect(await readFloor(p)).to.equal(1);
    expect(await new FileBootSelector(p.boot).state()).to.deep.include({ active: 'B', good: 'B' });
    // settled: a later start does not retry it, and the next install may begin
    expect((await installer.resume(V2_VERIFIED)).journal.seq).to.equal(step.journal.seq);
    expect(await readFloor(p)).to.equal(1);
    expect((await installer.install({ ...V2_TARGET, version: '3.0.0' })).journal.install).to.deep.include({ fromSlot: 'B', toSlot: 'A' });
  });

  it('leaves an interrupted commit\'s floors for a boot check of the committed slot, never the journal', async () => {
    const p = await device();
    await writeFile(p.journal, JSON.stringify({ seq: 7, state: 'committed', install: { target: V2_TARGET, fromSlot: 'A', toSlot: 'B', floorsRaised: false } }));
    const installer = buildInstaller(p);
    expect((await installer.resume()).journal.install?.floorsRaised).to.equal(false);
    expect((await installer.resume({ ...V2_VERIFIED, slot: 'A' })).journal.install?.floorsRaised).to.equal(false);
    expect(await readFloor(p)).to.equal(1);
    expect((await installer.resume(V2_VERIFIED)).journal.install?.floorsRaised).to.equal(true);
    expect(await readFloor(p)).to.equal(2);
  });

  it('rolls back when the boot check of the trial slot fails, and keeps the floors', async () => {
    const p = await device();
    const installer = buildInstaller(p);
    await installer.install(V2_TARGET);
    const boot = new FileBootSelector(p.boot);
    await boot.simulateBoot();
    const step = await installer.confirmBoot({ ok: false, code: 'DIGEST_MISMATCH', message: 'slot B changed' });
    expect(step.next).to.equal('reboot');
    expect(step.journal).to.deep.include({ state: 'rolled-back' });
    expect(step.journal.install?.outcome).to.deep.equal({ code: 'DIGEST_MISMATCH', message: 'boot check of slot B failed: slot B changed' });
    expect(await boot.simulateBoot()).to.equal('A');
    expect((await installer.resume()).next).to.equal('none');
    expect(await readFloor(p)).to.equal(1);
  });

  it('rolls back when the trial was spent without a confirmation (the bootloader fell back)', async () => {
    const p = await device();
    const installer = buildInstaller(p);
    await installer.install(V2_TARGET);
    const boot = new FileBootSelector(p.boot);
    await boot.simulateBoot(); // trial boot hangs before the agent runs …
    await boot.simulateBoot(); // … the watchdog reboots, the bootloader falls back
    const step = await installer.resume();
    expect(step).to.deep.include({ next: 'none' });
    expect(step.journal.state).to.equal('rolled-back');
    expect(step.journal.install?.outcome?.code).to.equal('INSTALL_FAILED');
    expect(await boot.state()).to.deep.equal({ active: 'A', good: 'A', trySlot: null, tryCount: 0 });
  });

  it('abandons a tampered image before it reaches the boot selector', async () => {
    const evil = Buffer.from(V2);
    evil[1000] ^= 0xff;
    const p = await device(evil);
    const step = await buildInstaller(p).install(V2_TARGET);
    expect(step).to.deep.include({ next: 'none' });
    expect(step.journal.state).to.equal('abandoned');
    expect(step.journal.install?.outcome?.code).to.equal('DIGEST_MISMATCH');
    expect(await new FileBootSelector(p.boot).state()).to.deep.equal({ active: 'A', good: 'A', trySlot: null, tryCount: 0 });
    expect((await readFile(p.devices.A)).subarray(0, V1.length).equals(V1), 'the active slot is untouched').to.be.true;
    expect(await readdir(p.staging).catch(() => [])).to.deep.equal([]);
  });

  it('disarms a trial of the slot before writing its first byte, and never writes the running slot', async () => {
    const p = await device();
    const order: string[] = [];
    await writeFile(p.journal, JSON.stringify({ seq: 1, state: 'downloading', install: { target: V2_TARGET, fromSlot: 'A', toSlot: 'B', floorsRaised: false } }));
    await writeFile(p.boot, JSON.stringify({ active: 'A', good: 'A', trySlot: 'B', tryCount: 0 }));
    const installer = buildInstaller(p, {}, (parts) => ({
      ...parts,
      slots: {
        ...parts.slots,
        location: (s) => parts.slots.location(s),
        measure: (s, n, onProgress) => parts.slots.measure(s, n, onProgress),
        capacity: (s) => parts.slots.capacity(s),
        open: async (s, image, fresh) => {
          order.push(`open ${s} with ${JSON.stringify(await parts.selector.state())}`);
          return parts.slots.open(s, image, fresh);
        },
      },
    }));
    await installer.resume();
    expect(order).to.deep.equal([`open B with ${JSON.stringify({ active: 'A', good: 'A', trySlot: null, tryCount: 0 })}`]);
    // a journal that names the running slot as the one to write is abandoned, the slot left alone
    await writeFile(p.journal, JSON.stringify({ seq: 1, state: 'downloading', install: { target: V2_TARGET, fromSlot: 'B', toSlot: 'A', floorsRaised: false } }));
    const step = await installer.resume();
    expect(step.journal.state).to.equal('abandoned');
    expect(order).to.have.length(1);
    expect((await readFile(p.devices.A)).subarray(0, V1.length).equals(V1)).to.be.true;
  });

  it('keeps the journal at downloading when the source fails, and resume() continues later', async () => {
    const p = await device();
    const installer = buildInstaller(p, { source: { kind: 'dir', path: join(p.dir, 'stick-not-inserted') } });
    await expectCodeAsync(() => installer.install(V2_TARGET), 'FETCH_FAILED');
    expect((await readJournal(p.journal)).state).to.equal('downloading');
    await expectCodeAsync(() => buildInstaller(p).install(V2_TARGET), 'INSTALL_FAILED');
    expect((await buildInstaller(p).resume()).next).to.equal('reboot');
  });

  for (const state of ['downloading', 'downloaded', 'verified', 'staging']) {
    it(`an older agent's ${state} journal with its staged .part: the .part is removed and the target streamed into the slot`, async () => {
      const p = await device();
      await writeFile(p.journal, JSON.stringify({ seq: 3, state, install: { target: V2_TARGET, fromSlot: 'A', toSlot: 'B', floorsRaised: false } }));
      await mkdir(p.staging, { recursive: true });
      // the layout agents before streaming left: <staging>/<sha256>.<basename>.part
      await writeFile(join(p.staging, `${V2_TARGET.sha256}.${basename(V2_TARGET.name)}.part`), V2.subarray(0, state === 'downloading' ? 1000 : V2.length));
      await writeFile(join(p.staging, 'keep.json'), '{}'); // not a download: left alone (rollout policies live here)
      const seen: string[] = [];
      const step = await buildInstaller(p, { onTransition: (j) => seen.push(j.state) }).resume();
      expect(seen).to.deep.equal([...(state === 'downloading' ? [] : ['downloading']), 'downloading', 'staged', 'trying']);
      expect(step.next).to.equal('reboot');
      expect(await readdir(p.staging)).to.deep.equal(['keep.json']);
      expect(await new BlockSlotBackend(p.devices).measure('B', V2.length)).to.deep.equal({ length: V2_TARGET.length, sha256: V2_TARGET.sha256 });
    });
  }

  it('abandon() before the reboot disarms the trial; refuses during the trial boot', async () => {
    const p = await device();
    const installer = buildInstaller(p);
    await installer.install(V2_TARGET);
    const step = await installer.abandon('GATE_REFUSED', 'operator cancelled');
    expect(step.journal).to.deep.include({ state: 'abandoned' });
    expect(await new FileBootSelector(p.boot).state()).to.include({ trySlot: null, good: 'A' });
    await expectCodeAsync(() => installer.abandon('GATE_REFUSED', 'again'), 'INSTALL_FAILED');

    await installer.install(V2_TARGET);
    await new FileBootSelector(p.boot).simulateBoot();
    await expectCodeAsync(() => installer.abandon('GATE_REFUSED', 'too late'), 'INSTALL_FAILED');
  });

  it('refuses confirmBoot without a trial, and install() while running an unconfirmed trial', async () => {
    const p = await device();
    const installer = buildInstaller(p);
    await expectCodeAsync(() => installer.confirmBoot({ ok: true, verified: V2_VERIFIED }), 'INSTALL_FAILED');
    await installer.install(V2_TARGET);
    await expectCodeAsync(() => installer.confirmBoot({ ok: true, verified: V2_VERIFIED }), 'INSTALL_FAILED'); // still on A
    await new FileBootSelector(p.boot).markGood('A');
    await writeFile(p.journal, JSON.stringify({ seq: 9, state: 'idle', install: null }));
    await new FileBootSelector(p.boot).setTryOnce('B');
    await new FileBootSelector(p.boot).simulateBoot();
    await expectCodeAsync(() => installer.install(V2_TARGET), 'INSTALL_FAILED');
  });

  it('installs back and forth: A → B committed, then B → A', async () => {
    const p = await device();
    const installer = buildInstaller(p);
    const boot = new FileBootSelector(p.boot);
    await installer.install(V2_TARGET);
    await boot.simulateBoot();
    await installer.confirmBoot({ ok: true, verified: V2_VERIFIED });
    const v3 = { ...V2_TARGET, version: '3.0.0' };
    const step = await installer.install(v3);
    expect(step.journal.install).to.deep.include({ fromSlot: 'B', toSlot: 'A' });
    expect(await boot.state()).to.deep.equal({ active: 'B', good: 'B', trySlot: 'A', tryCount: 1 });
    expect(step.journal.seq).to.be.greaterThan(8);
  });

  it('reports STORAGE_ERROR for a journal that is not ours, and treats a missing one as idle', async () => {
    const p = await device();
    expect((await buildInstaller(p).resume()).journal).to.deep.equal({ seq: 0, state: 'idle', install: null });
    for (const bad of ['{', '{"seq":1,"state":"flying","install":null}', JSON.stringify({ seq: 1, state: 'trying', install: { target: V1_TARGET, fromSlot: 'A', toSlot: 'A', floorsRaised: false } })]) {
      await writeFile(p.journal, bad);
      await expectCodeAsync(() => buildInstaller(p).resume(), 'STORAGE_ERROR');
    }
  });
});
