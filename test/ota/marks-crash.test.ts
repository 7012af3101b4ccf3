import { expect } from 'chai';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileBootSelector } from '../../src/ota/boot-selector-file.js';
import { readJournal } from '../../src/ota/install-journal.js';
import { assertInvariants, runChild, type ChildResult } from './crash-child.js';
import { readFloor, setupDevice, type RigPaths } from './install-rig.js';

// The installer steps of edgeseal mark-good | mark-bad | mark-active (update.health.mode external),
// each SIGKILLed at every step, then run again (the operator's retry) or rebooted into the agent's
// start: the device stays bootable into verified images, and the floor is never above what was committed.
type Mark = 'mark-good' | 'mark-bad' | 'mark-active';

const step = (p: RigPaths, phase: string, crashAt: string | null, extra: object = {}): Promise<ChildResult> =>
  runChild({ dir: p.dir, phase, crashAt, bootOk: true, awaitMark: true, ...extra });

function settled(r: ChildResult): { next: string; state: string } {
  expect(r.signal, r.err).to.equal(null);
  expect(r.code, r.err).to.equal(0);
  return JSON.parse(r.out) as { next: string; state: string };
}

// v2 staged into B, booted and verified: the trial waits in its health window for a mark.
async function onTrial(): Promise<RigPaths> {
  const p = await setupDevice(await mkdtemp(join(tmpdir(), 'es-marks-')));
  const boot = new FileBootSelector(p.boot);
  expect(settled(await step(p, 'install', null)).next).to.equal('reboot');
  await boot.simulateBoot();
  expect(settled(await step(p, 'start', null))).to.deep.equal({ next: 'none', state: 'health' });
  return p;
}

// The trial was marked bad and the device rebooted into A: B still holds the signed v2.
async function afterRollback(): Promise<RigPaths> {
  const p = await onTrial();
  expect(settled(await step(p, 'mark-bad', null)).state).to.equal('rolled-back');
  await new FileBootSelector(p.boot).simulateBoot();
  expect(settled(await step(p, 'start', null)).next).to.equal('none');
  return p;
}

// Runs `mark` killed at `crashAt`, then again (restart) or reboots and starts the agent until it settles.
async function markUnderCrash(p: RigPaths, mark: Mark, crashAt: string, after: 'restart' | 'reboot', extra: object = {}): Promise<void> {
  const boot = new FileBootSelector(p.boot);
  const r = await step(p, mark, crashAt, extra);
  expect(r.signal, `${crashAt} was never reached: ${r.out}${r.err}`).to.equal('SIGKILL');
  await assertInvariants(p, `after the kill at ${crashAt}`);
  if (after === 'restart') {
    settled(await step(p, mark, crashAt, extra));
    await assertInvariants(p, 'after the second run');
    return;
  }
  await boot.simulateBoot();
  for (let i = 0; ; i++) {
    expect(i, 'the device did not settle').to.be.lessThan(4);
    const { next } = settled(await step(p, 'start', crashAt));
    await assertInvariants(p, `after start ${i}`);
    if (next === 'none') break;
    await boot.simulateBoot();
  }
  expect(await readFile(join(p.dir, 'crashed'), 'utf8')).to.equal(crashAt);
}

describe('mark-good, mark-bad, mark-active under SIGKILL at every step', function () {
  this.timeout(60_000);

  for (const after of ['restart', 'reboot'] as const) {
    for (const point of ['journal:committed', 'selector:markGood', 'floors:raise']) {
      it(`mark-good killed at ${point}, then ${after}: committed on B, floor raised once B is good`, async () => {
        const p = await onTrial();
        expect(await readFloor(p)).to.equal(1);
        await markUnderCrash(p, 'mark-good', point, after);
        const j = await readJournal(p.journal);
        expect(j).to.deep.include({ state: 'committed' });
        expect(j.install?.floorsRaised).to.equal(true);
        expect(await new FileBootSelector(p.boot).state()).to.deep.include({ active: 'B', good: 'B', trySlot: null });
        expect(await readFloor(p)).to.equal(2);
      });
    }
    for (const point of ['journal:rolled-back', 'selector:markGood']) {
      it(`mark-bad killed at ${point}, then ${after}: rolled back to A with the reason, floor untouched`, async () => {
        const p = await onTrial();
        await markUnderCrash(p, 'mark-bad', point, after);
        const j = await readJournal(p.journal);
        expect(j.state).to.equal('rolled-back');
        expect(j.install?.outcome).to.deep.equal({ code: 'MARKED_BAD', message: 'slot B marked bad: uplink down' });
        const s = await new FileBootSelector(p.boot).state();
        expect(s).to.deep.include({ good: 'A', trySlot: null, tryCount: 0 });
        expect(s.active).to.equal(after === 'restart' ? 'B' : 'A'); // a restart has not rebooted yet
        expect(await readFloor(p)).to.equal(1);
      });
    }
    for (const point of ['journal:idle', 'selector:markGood']) {
      it(`mark-active B killed at ${point}, then ${after}: B is selected once the command has completed, floor untouched`, async () => {
        const p = await afterRollback();
        await markUnderCrash(p, 'mark-active', point, after, { slot: 'B' });
        // after a reboot the operator sees the command did not finish and runs it again
        if (after === 'reboot') settled(await step(p, 'mark-active', null, { slot: 'B' }));
        expect((await readJournal(p.journal)).state).to.equal('idle');
        expect(await new FileBootSelector(p.boot).state()).to.deep.include({ good: 'B', trySlot: null });
        expect(await readFloor(p)).to.equal(1);
        // the next start keeps the choice: nothing in the journal marks A good again
        await new FileBootSelector(p.boot).simulateBoot();
        expect(settled(await step(p, 'start', null)).next).to.equal('none');
        expect(await new FileBootSelector(p.boot).state()).to.deep.include({ active: 'B', good: 'B' });
        await assertInvariants(p, 'after the next boot');
      });
    }
  }
});
