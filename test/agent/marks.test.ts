import { expect } from 'chai';
import { join } from 'node:path';
import { agentPaths, readAgentStatus } from '../../src/agent/agent-state.js';
import { applyMark } from '../../src/agent/marks.js';
import { runUpdate } from '../../src/agent/update.js';
import { readJournal } from '../../src/ota/install-journal.js';
import { parseEnvelope } from '../../src/telemetry/envelope.js';
import { DiskOutboxStore } from '../../src/telemetry/outbox/disk-store.js';
import { expectCodeAsync } from '../helpers/expect-code.js';
import { runCli, startCli } from './cli-child.js';
import { NOW, S, useBoardRig, withDevice, type Board } from './rig.js';

// edgeseal mark-good | mark-bad | mark-active on a board whose integrator decides health
// (update.health.mode "external"), against swtpm and the real update path: the trial waits in its
// health window, mark-good commits and alone raises the floor, mark-bad rolls back, mark-active only
// selects a slot that verifies. Each is run twice: the second run changes nothing.
describe('mark-good, mark-bad, mark-active (real swtpm)', function () {
  const rig = useBoardRig(this);
  const external = { update: { health: { mode: 'external' } } };
  const floor = (b: Board): Promise<number> => withDevice(b, async (dev) => (await dev.trust.readFloors()).securityVersion);
  const journal = (b: Board): ReturnType<typeof readJournal> => readJournal(agentPaths(b.config.stateDir).journal);
  const events = async (b: Board, type: string): Promise<{ verdict: string; code?: string; detail?: string }[]> => {
    const { entries } = await new DiskOutboxStore(join(b.config.stateDir, 'outbox')).load();
    return entries.map((e) => parseEnvelope(e.bytes).event).filter((e) => e.type === type);
  };
  // a board in external mode that booted its trial of v2 in slot B: verified, waiting for a mark
  const onTrial = async (): Promise<Board> => {
    const b = await rig.board(external);
    expect(await withDevice(b, (dev) => runUpdate(dev, {}))).to.include({ action: 'installed', next: 'reboot' });
    expect(await rig.reboot(b)).to.include({ action: 'awaiting-mark', proceed: true });
    return b;
  };

  it('external mode: a verified trial waits in its health window, floors untouched, until mark-good commits it', async () => {
    const b = await onTrial();
    expect((await journal(b)).state).to.equal('health');
    const status = await runCli(['status', '--config', b.configPath]);
    expect(status.out, status.err).to.contain('awaiting edgeseal mark-good or mark-bad');
    // the update job leaves an undecided trial alone
    expect(await withDevice(b, (dev) => runUpdate(dev, {}))).to.deep.include({ action: 'none', message: `trial of ${S.v2.target} ${S.v2.version} in slot B awaits edgeseal mark-good or mark-bad` });
    expect((await journal(b)).state).to.equal('health');
    expect(await b.boot.state()).to.deep.equal({ active: 'B', good: 'A', trySlot: 'B', tryCount: 0 });
    expect(await floor(b)).to.equal(0);
    const good = await withDevice(b, (dev) => applyMark(dev, { op: 'mark-good' }, NOW));
    expect(good).to.deep.include({ changed: true, slot: 'B', state: 'committed', next: 'none' });
    expect(good.code).to.equal(undefined);
    expect(await b.boot.state()).to.deep.equal({ active: 'B', good: 'B', trySlot: null, tryCount: 0 });
    expect(await floor(b)).to.equal(S.v2.securityVersion);
    expect((await journal(b)).install?.floorsRaised).to.equal(true);
    expect((await events(b, 'commit')).map((e) => e.verdict)).to.deep.equal(['ok']);
    const again = await withDevice(b, (dev) => applyMark(dev, { op: 'mark-good' }, NOW));
    expect(again).to.deep.include({ changed: false, slot: 'B', state: 'committed' });
    expect(await events(b, 'commit')).to.have.length(1);
    // and the next start keeps it: the agent finds nothing left to decide
    expect(await rig.reboot(b)).to.include({ action: 'verified', proceed: true });
    expect(await b.boot.state()).to.deep.include({ active: 'B', good: 'B' });
  });

  it('mark-bad rolls the trial back with its reason (rollback event), floors untouched; again: no change; on a committed slot: MARK_REFUSED', async () => {
    const b = await onTrial();
    const bad = await withDevice(b, (dev) => applyMark(dev, { op: 'mark-bad', reason: 'uplink down' }, NOW));
    expect(bad).to.deep.include({ changed: true, slot: 'B', state: 'rolled-back', next: 'reboot' });
    const j = await journal(b);
    expect(j.install?.outcome).to.deep.equal({ code: 'MARKED_BAD', message: 'slot B marked bad: uplink down' });
    expect(await b.boot.state()).to.deep.equal({ active: 'B', good: 'A', trySlot: null, tryCount: 0 });
    expect(await floor(b)).to.equal(0);
    const rollbacks = await events(b, 'rollback');
    expect(rollbacks.map((e) => [e.verdict, e.code, e.detail])).to.deep.equal([['refused', 'MARKED_BAD', 'slot B marked bad: uplink down']]);
    expect(await withDevice(b, (dev) => applyMark(dev, { op: 'mark-bad' }, NOW))).to.deep.include({ changed: false, state: 'rolled-back' });
    expect(await events(b, 'rollback')).to.have.length(1);
    expect(await rig.reboot(b)).to.include({ action: 'verified', proceed: true });
    expect(await b.boot.state()).to.deep.include({ active: 'A', good: 'A' });
    await withDevice(b, (dev) => expectCodeAsync(() => applyMark(dev, { op: 'mark-bad' }, NOW), 'MARK_REFUSED'));
  });

  it('mark-active selects a slot only when it verifies now, and the next start does not undo the choice', async () => {
    const b = await onTrial();
    // while the trial is undecided no slot is chosen behind its back
    await withDevice(b, (dev) => expectCodeAsync(() => applyMark(dev, { op: 'mark-active', slot: 'other' }, NOW), 'MARK_REFUSED'));
    await withDevice(b, (dev) => applyMark(dev, { op: 'mark-bad', reason: 'try again later' }, NOW));
    expect(await rig.reboot(b)).to.include({ action: 'verified' });
    // B still holds the signed v2 and the floor is still 0: it verifies, so it may be chosen
    const active = await withDevice(b, (dev) => applyMark(dev, { op: 'mark-active', slot: 'B' }, NOW));
    expect(active).to.deep.include({ changed: true, slot: 'B', state: 'idle', next: 'reboot' });
    expect(await b.boot.state()).to.deep.equal({ active: 'A', good: 'B', trySlot: null, tryCount: 0 });
    expect(await floor(b), 'mark-active moves no floor').to.equal(0);
    expect(await rig.reboot(b)).to.include({ action: 'verified', proceed: true });
    expect(await b.boot.state()).to.deep.include({ active: 'B', good: 'B' });
    expect(await withDevice(b, (dev) => applyMark(dev, { op: 'mark-active', slot: 'booted' }, NOW))).to.deep.include({ changed: false, slot: 'B' });
  });

  it('mark-active refuses a slot that does not verify and leaves the bootloader alone', async () => {
    const b = await rig.board(external); // slot B is empty: nothing signed there
    const before = await b.boot.state();
    const o = await withDevice(b, (dev) => applyMark(dev, { op: 'mark-active', slot: 'other' }, NOW));
    expect(o.changed).to.equal(false);
    expect(o.code).to.be.oneOf(['DIGEST_MISMATCH', 'LENGTH_MISMATCH']);
    expect(await b.boot.state()).to.deep.equal(before);
  });

  it('the CLI: exit codes, and with the agent running the request goes to it over the control socket', async () => {
    const b = await rig.board(external);
    expect(await withDevice(b, (dev) => runUpdate(dev, {}))).to.include({ action: 'installed' });
    await b.boot.simulateBoot();
    await rig.swtpm.restart();
    const usage = await runCli(['mark-active', 'C', '--config', b.configPath]);
    expect(usage.code, usage.err).to.equal(2);
    const paths = agentPaths(b.config.stateDir);
    const { child, done } = startCli(['agent', '--config', b.configPath]);
    try {
      const deadline = Date.now() + 20_000;
      while ((await readAgentStatus(paths)).pid !== child.pid) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the agent did not start: ${(await done).err}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      expect((await readJournal(paths.journal)).state).to.equal('health');
      const refused = await runCli(['mark-active', 'other', '--config', b.configPath]);
      expect(refused.code, refused.err).to.equal(1);
      expect(refused.err).to.contain('[MARK_REFUSED]');
      const good = await runCli(['mark-good', '--config', b.configPath, '--json']);
      expect(good.code, good.err).to.equal(0);
      expect(JSON.parse(good.out)).to.deep.include({ changed: true, slot: 'B', state: 'committed', via: 'the running agent' });
      const again = await runCli(['mark-good', '--config', b.configPath]);
      expect(again.code, again.err).to.equal(0);
      expect(again.out).to.contain('already is the committed good slot').and.contain('by the running agent');
      child.kill('SIGTERM');
      expect((await done).code).to.equal(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    expect(await b.boot.state()).to.deep.equal({ active: 'B', good: 'B', trySlot: null, tryCount: 0 });
    expect(await floor(b)).to.equal(S.v2.securityVersion);
    // with no agent the command acts itself: a committed slot has nothing behind it to roll back to
    const bad = await runCli(['mark-bad', '--config', b.configPath]);
    expect(bad.code, bad.err).to.equal(1);
    expect(bad.err).to.contain('[MARK_REFUSED]');
  });
});
