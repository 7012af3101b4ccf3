import { expect } from 'chai';
import { runBootCheck } from '../../src/agent/boot-check.js';
import { bootSequence } from '../../src/agent/boot-sequence.js';
import { runUpdate } from '../../src/agent/update.js';
import { readJournal, writeJournal } from '../../src/ota/install-journal.js';
import { agentPaths } from '../../src/agent/agent-state.js';
import { serveRepo } from './repo-server.js';
import { flipByte, NOW, REPO, S, TAMPERED, useBoardRig, withDevice, type Board } from './rig.js';

describe('agent update flow (real swtpm)', function () {
  const rig = useBoardRig(this);

  const update = (board: Board, from?: string): ReturnType<typeof runUpdate> => withDevice(board, (dev) => runUpdate(dev, from ? { from } : {}));

  const floors = (board: Board): Promise<{ securityVersion: number; rootVersion: number }> => withDevice(board, (dev) => dev.trust.readFloors());

  it('A → B over HTTP: gate, download, stage, trial boot, commit; TPM floors rise only after the commit', async () => {
    const board = await rig.board();
    const server = await serveRepo(REPO);
    try {
      const o = await update(board, server.url);
      expect(o).to.include({ action: 'installed', next: 'reboot' });
      expect(o.target).to.include({ name: S.v2.target, version: S.v2.version });
      expect(await board.boot.state()).to.deep.equal({ active: 'A', good: 'A', trySlot: 'B', tryCount: 1 });
      expect((await floors(board)).securityVersion, 'floor before the trial boot').to.equal(0);

      const boot = await rig.reboot(board);
      expect(boot.action).to.equal('committed');
      expect(boot.check.outcomes[0].image).to.include({ slot: 'B', target: S.v2.target });
      expect(await board.boot.state()).to.deep.equal({ active: 'B', good: 'B', trySlot: null, tryCount: 0 });
      expect(await floors(board)).to.include({ securityVersion: S.v2.securityVersion, rootVersion: 1 });
      expect((await readJournal(agentPaths(board.config.stateDir).journal)).install?.floorsRaised).to.equal(true);

      expect(await update(board, server.url)).to.include({ action: 'none', code: 'NO_UPDATE' });
      // the next release arrives through a mirror that altered its bytes
      const tampered = await update(board, TAMPERED);
      expect(tampered).to.include({ action: 'refused', code: 'DIGEST_MISMATCH' });
      expect(tampered.target?.version).to.equal(S.v3.version);
      expect(await board.boot.state()).to.deep.equal({ active: 'B', good: 'B', trySlot: null, tryCount: 0 });
    } finally {
      await server.close();
    }
  });

  it('rolls back to A when the new slot fails its boot check on the trial boot; floors stay', async () => {
    const board = await rig.board();
    expect(await update(board)).to.include({ action: 'installed' });
    await flipByte(board.slots.b);
    const boot = await rig.reboot(board);
    expect(boot).to.include({ action: 'rolled-back', proceed: false, code: 'DIGEST_MISMATCH' });
    expect(board.reboots).to.have.length(1);
    expect(await board.boot.state()).to.include({ good: 'A', trySlot: null });
    expect((await floors(board)).securityVersion).to.equal(0);
    expect(await rig.reboot(board)).to.include({ action: 'verified', proceed: true });
    expect((await board.boot.state()).active).to.equal('A');
  });

  it('finishes a commit a crash interrupted before the floors went up, at the next start', async () => {
    const board = await rig.board();
    expect(await update(board)).to.include({ action: 'installed' });
    const journal = agentPaths(board.config.stateDir).journal;
    const j = await readJournal(journal);
    await board.boot.simulateBoot();
    // the state a crash leaves right after the 'committed' transition: B not yet good, floors not raised
    await writeJournal(journal, { seq: j.seq + 1, state: 'committed', install: { ...j.install!, floorsRaised: false } });
    await rig.swtpm.restart();
    expect(await withDevice(board, (dev) => bootSequence(dev, NOW))).to.include({ action: 'verified', proceed: true });
    expect((await readJournal(journal)).install?.floorsRaised).to.equal(true);
    expect(await floors(board)).to.include({ securityVersion: S.v2.securityVersion });
    expect(await board.boot.state()).to.include({ active: 'B', good: 'B', trySlot: null });
  });

  it('rolls back a trial the bootloader spent without the agent ever confirming it', async () => {
    const board = await rig.board();
    expect(await update(board)).to.include({ action: 'installed' });
    expect(await board.boot.simulateBoot()).to.equal('B'); // the trial boot dies before the agent runs
    const boot = await rig.reboot(board); // the bootloader falls back to A
    expect(boot).to.include({ action: 'verified', proceed: true });
    expect((await readJournal(agentPaths(board.config.stateDir).journal)).state).to.equal('rolled-back');
    expect(await board.boot.state()).to.deep.equal({ active: 'A', good: 'A', trySlot: null, tryCount: 0 });
    expect((await floors(board)).securityVersion).to.equal(0);
  });

  it('resumes an interrupted download with a Range request', async () => {
    const board = await rig.board();
    const server = await serveRepo(REPO, { dropAfter: 64 * 1024 });
    try {
      expect(await update(board, server.url)).to.include({ action: 'installed' });
      const ranged = server.requests.filter((r) => r.path.startsWith('/targets/') && r.range);
      expect(ranged.map((r) => r.range)).to.deep.equal(['bytes=65536-']);
    } finally {
      await server.close();
    }
  });

  it('waits for the maintenance window unless the operator says now', async () => {
    const hour = String((new Date().getUTCHours() + 12) % 24).padStart(2, '0');
    const board = await rig.board({ update: { maintenanceWindows: [`${hour}:00-${hour}:01`] } });
    expect(await update(board)).to.include({ action: 'refused', code: 'OUTSIDE_MAINTENANCE_WINDOW' });
    const dev = await board.open();
    try {
      expect(await runUpdate(dev, { ignoreMaintenanceWindow: true })).to.include({ action: 'installed' });
    } finally {
      await dev.close();
    }
  });

  // bootCode: what the boot check of slot A says afterwards (the install never touched it)
  const gates: { name: string; code: string; over?: Record<string, unknown>; hardwareId?: string; from?: string; arrange?: (b: Board) => Promise<void>; bootCode?: string }[] = [
    { name: 'bytes altered on the mirror', code: 'DIGEST_MISMATCH', from: TAMPERED },
    { name: 'no target for this hardware', code: 'HARDWARE_MISMATCH', hardwareId: 'board-b', bootCode: 'HARDWARE_MISMATCH' },
    {
      name: 'a securityVersion below the TPM floor',
      code: 'ROLLBACK',
      arrange: async (b) => {
        const dev = await b.open();
        await dev.trust.raiseFloor('securityVersion', 5).finally(() => dev.close());
      },
      bootCode: 'ROLLBACK',
    },
    { name: 'not enough free space', code: 'INSUFFICIENT_SPACE', over: { update: { reserveBytes: 2 ** 50 } } },
    { name: 'no revocation list while policy requires one', code: 'REVOCATION_STALE', over: { revocation: { onNever: 'require' } } },
  ];
  for (const g of gates) {
    it(`refuses an update for ${g.name}: ${g.code}, slot A untouched`, async () => {
      const board = await rig.board(g.over, g.hardwareId);
      await g.arrange?.(board);
      const o = await update(board, g.from);
      expect(o).to.include({ action: 'refused', code: g.code });
      expect(await board.boot.state()).to.deep.equal({ active: 'A', good: 'A', trySlot: null, tryCount: 0 });
      const dev = await board.open();
      try {
        const [a] = (await runBootCheck(dev, NOW)).outcomes;
        expect(a.verdict.ok ? 'VERIFIED' : a.verdict.code).to.equal(g.bootCode ?? 'VERIFIED');
      } finally {
        await dev.close();
      }
    });
  }
});
