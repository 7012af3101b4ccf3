import { expect } from 'chai';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileBootSelector } from '../../src/ota/boot-selector-file.js';
import { readJournal } from '../../src/ota/install-journal.js';
import { assertInvariants, runChild } from './crash-child.js';
import { readFloor, setupDevice, V1, V2_TARGET, type RigPaths } from './install-rig.js';

// Drives install → crash → (restart or reboot) → agent starts until the machine settles.
async function scenario(crashAt: string, bootOk: boolean, afterCrash: 'restart' | 'reboot', health?: 'pass' | 'fail'): Promise<RigPaths> {
  const p = await setupDevice(await mkdtemp(join(tmpdir(), 'es-crash-')));
  const boot = new FileBootSelector(p.boot);
  let r = await runChild({ dir: p.dir, phase: 'install', crashAt, bootOk, health });
  for (let i = 0; ; i++) {
    expect(i, 'the install did not settle').to.be.lessThan(8);
    await assertInvariants(p, `after run ${i} (${r.signal ?? `exit ${r.code}`})`);
    if (r.signal === 'SIGKILL') {
      if (afterCrash === 'reboot') await boot.simulateBoot();
    } else {
      expect(r.code, r.err).to.equal(0);
      const { next } = JSON.parse(r.out) as { next: string };
      if (next === 'none') break;
      expect(next).to.equal('reboot');
      await boot.simulateBoot();
    }
    r = await runChild({ dir: p.dir, phase: 'start', crashAt, bootOk, health });
  }
  expect(await readFile(join(p.dir, 'crashed'), 'utf8'), 'the crash point was never reached').to.equal(crashAt);
  return p;
}

const COMMIT_POINTS = [
  'journal:downloading',
  'download:mid',
  'download:checkpoint',
  'slot:datasync',
  'download:end',
  'journal:staged',
  'journal:trying',
  'selector:setTryOnce',
  'journal:committed',
  'selector:markGood',
  'floors:raise',
];
const ROLLBACK_POINTS = ['journal:rolled-back', 'selector:markGood'];

describe('Installer under SIGKILL at every step', function () {
  this.timeout(60_000);

  for (const afterCrash of ['restart', 'reboot'] as const) {
    for (const point of COMMIT_POINTS) {
      it(`${point}, then ${afterCrash}: ends committed on B with floors raised`, async () => {
        const p = await scenario(point, true, afterCrash);
        const j = await readJournal(p.journal);
        expect(j.state).to.equal('committed');
        expect(j.install?.floorsRaised).to.be.true;
        expect(await new FileBootSelector(p.boot).state()).to.deep.equal({ active: 'B', good: 'B', trySlot: null, tryCount: 0 });
        expect(await readFloor(p)).to.equal(2);
      });
    }
    for (const point of ROLLBACK_POINTS) {
      it(`${point} during a failing boot check, then ${afterCrash}: ends rolled back on A, floors untouched`, async () => {
        const p = await scenario(point, false, afterCrash);
        const j = await readJournal(p.journal);
        expect(j.state).to.equal('rolled-back');
        expect(j.install?.outcome?.code).to.be.oneOf(['SIGNATURE_THRESHOLD', 'INSTALL_FAILED']);
        expect(await new FileBootSelector(p.boot).state()).to.deep.equal({ active: 'A', good: 'A', trySlot: null, tryCount: 0 });
        expect(await readFloor(p)).to.equal(1);
      });
    }
    // P8: a kill inside the health window never commits on its own; a restart runs the window again
    // (and commits on a pass), a reboot spends the one armed trial boot and rolls back
    for (const point of ['journal:health', 'health:run']) {
      const ends = afterCrash === 'restart' ? 'committed' : 'rolled-back';
      it(`${point} with passing health checks, then ${afterCrash}: ends ${ends}`, async () => {
        const p = await scenario(point, true, afterCrash, 'pass');
        const j = await readJournal(p.journal);
        expect(j.state).to.equal(ends);
        expect(j.install?.healthRuns).to.equal(afterCrash === 'restart' ? 2 : 1);
        const good = afterCrash === 'restart' ? 'B' : 'A';
        if (ends === 'rolled-back') expect(j.install?.outcome?.code).to.equal('HEALTH_CHECK_FAILED');
        expect(await new FileBootSelector(p.boot).state()).to.deep.equal({ active: good, good, trySlot: null, tryCount: 0 });
        expect(await readFloor(p)).to.equal(good === 'B' ? 2 : 1);
      });
    }
    for (const point of ['journal:health', 'health:run', 'journal:rolled-back', 'selector:markGood']) {
      it(`${point} with a failing health check, then ${afterCrash}: ends rolled back on A, floors untouched`, async () => {
        const p = await scenario(point, true, afterCrash, 'fail');
        const j = await readJournal(p.journal);
        expect(j.state).to.equal('rolled-back');
        expect(j.install?.outcome?.code).to.equal('HEALTH_CHECK_FAILED');
        expect(await new FileBootSelector(p.boot).state()).to.deep.equal({ active: 'A', good: 'A', trySlot: null, tryCount: 0 });
        expect(await readFloor(p)).to.equal(1);
      });
    }
  }

  it('a SIGKILL mid-stream: the next start resumes at the journalled offset, A untouched meanwhile', async () => {
    const p = await setupDevice(await mkdtemp(join(tmpdir(), 'es-crash-')));
    const killed = await runChild({ dir: p.dir, phase: 'install', crashAt: 'download:checkpoint', bootOk: true });
    expect(killed.signal).to.equal('SIGKILL');
    const j = await readJournal(p.journal);
    expect(j.state).to.equal('downloading');
    const offset = j.install?.offset ?? 0;
    expect(offset, 'a checkpoint was journalled before the kill').to.be.within(1, V2_TARGET.length - 1);
    expect((await readFile(p.devices.A)).subarray(0, V1.length).equals(V1)).to.be.true;
    expect(await new FileBootSelector(p.boot).state()).to.deep.equal({ active: 'A', good: 'A', trySlot: null, tryCount: 0 });
    const resumed = await runChild({ dir: p.dir, phase: 'start', crashAt: 'download:checkpoint', bootOk: true });
    expect(resumed.code, resumed.err).to.equal(0);
    expect(JSON.parse(resumed.out)).to.deep.include({ state: 'trying', resumedFrom: offset });
  });
});
