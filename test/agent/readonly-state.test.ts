import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { agentPaths } from '../../src/agent/agent-state.js';
import { bootSequence } from '../../src/agent/boot-sequence.js';
import { runUpdate } from '../../src/agent/update.js';
import { bootCheckCommand } from '../../src/cli/boot-check.js';
import { EXIT } from '../../src/cli/command.js';
import { readJournal } from '../../src/ota/install-journal.js';
import { parseEnvelope } from '../../src/telemetry/envelope.js';
import { DiskOutboxStore } from '../../src/telemetry/outbox/disk-store.js';
import { spoolDir } from '../../src/telemetry/spool.js';
import { flipByte, NOW, useBoardRig, withDevice, type Board } from './rig.js';

const exec = promisify(execFile);

// Finding 8: a read-only or full state dir. As root (this machine, CI) chmod stops nothing, so the state dir is
// bind-mounted onto itself and remounted read-only (EROFS, what a remounted or failing filesystem
// gives); without root, chmod a-w stands in (EACCES).
async function readOnly(dir: string): Promise<() => Promise<void>> {
  try {
    await exec('mount', ['--bind', dir, dir]);
  } catch {
    await exec('chmod', ['-R', 'a-w', dir]);
    return () => exec('chmod', ['-R', 'u+w', dir]).then(() => undefined);
  }
  await exec('mount', ['-o', 'remount,ro,bind', dir]);
  return () => exec('umount', [dir]).then(() => undefined);
}

async function outboxEvents(board: Board): Promise<{ type: string; verdict: string; code?: string; detail?: string }[]> {
  const { entries } = await new DiskOutboxStore(join(board.config.stateDir, 'outbox')).load();
  return entries.map((e) => parseEnvelope(e.bytes).event);
}

describe('read-only state dir: the boot check still decides (real swtpm, read-only mount)', function () {
  const rig = useBoardRig(this, { scratch: 'es-ro-run-' });
  let boards = 0;
  // each board its own runDir (the test's /run/edgeseal)
  const boardWithRunDir = (): Promise<Board> => rig.board({ runDir: join(rig.dir, `run-${++boards}`) });

  const bootCheck = async (board: Board): Promise<{ code: number; out: string; err: string }> => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await bootCheckCommand.run(['--config', board.configPath], { out: (l) => out.push(l), err: (l) => err.push(l), isTTY: false });
    return { code, out: out.join('\n'), err: err.join('\n') };
  };

  it('boot-check verifies, exits with the verification code, spools its verdicts; the next writable start drains them into the outbox', async () => {
    const board = await boardWithRunDir();
    const before = (await outboxEvents(board)).length;
    const undo = await readOnly(board.config.stateDir);
    try {
      const good = await bootCheck(board);
      expect(good.code).to.equal(EXIT.OK);
      expect(good.out).to.contain('all images verified');
      expect(good.err).to.contain('[STORAGE_ERROR]').and.contain(spoolDir(board.config.runDir));
      await flipByte(board.slots.a); // the slot lives outside the state dir
      const bad = await bootCheck(board);
      expect(bad.code, 'the exit code is the verification, not the storage problem').to.equal(EXIT.REFUSED);
      expect(bad.out).to.contain('DIGEST_MISMATCH');
    } finally {
      await undo();
    }
    expect((await readdir(spoolDir(board.config.runDir))).length, 'two boot checks: at least their two verdicts').to.be.at.least(2);
    expect((await outboxEvents(board)).length, 'nothing reached the outbox while read-only').to.equal(before);

    await withDevice(board, () => Promise.resolve()); // the agent's (and any writer's) start drains the spool
    expect(await readdir(spoolDir(board.config.runDir))).to.deep.equal([]);
    const drained = (await outboxEvents(board)).filter((e) => e.type === 'boot-verification' && e.detail?.startsWith('spooled '));
    expect(drained.map((e) => e.code ?? e.verdict)).to.deep.equal(['ok', 'DIGEST_MISMATCH']);
  });

  it('a full state dir (ENOSPC: a 64 KiB tmpfs filled up over the outbox) degrades the same way', async () => {
    const board = await boardWithRunDir();
    const outbox = join(board.config.stateDir, 'outbox');
    await exec('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', outbox]);
    try {
      await exec('sh', ['-c', `dd if=/dev/zero of=${outbox}/fill bs=4096 2>/dev/null || true`]);
      const r = await bootCheck(board);
      expect(r.code).to.equal(EXIT.OK);
      expect(r.err).to.contain('[STORAGE_ERROR]').and.contain('ENOSPC');
    } finally {
      await exec('umount', [outbox]);
    }
    expect((await readdir(spoolDir(board.config.runDir))).length).to.be.at.least(1);
  });

  it('a trial boot with a read-only state dir is never committed: journal, floors and boot selector stay for the try counter', async () => {
    const board = await boardWithRunDir();
    expect(await withDevice(board, (dev) => runUpdate(dev))).to.include({ action: 'installed' });
    await board.boot.simulateBoot(); // the bootloader starts the trial of slot B
    await rig.swtpm.restart();
    const armed = await board.boot.state();
    const undo = await readOnly(board.config.stateDir);
    try {
      const boot = await withDevice(board, (dev) => bootSequence(dev, NOW));
      expect(boot.check.ok, 'slot B itself verifies').to.equal(true);
      expect(boot.action).to.equal('verified');
    } finally {
      await undo();
    }
    expect((await readJournal(agentPaths(board.config.stateDir).journal)).state).to.equal('trying');
    expect(await board.boot.state()).to.deep.equal(armed);
    expect((await withDevice(board, (dev) => dev.trust.readFloors())).securityVersion).to.equal(0);
    const undecided = (await outboxEvents(board)).filter((e) => e.type === 'commit' && e.code === 'STORAGE_ERROR');
    expect(undecided).to.have.length(1);
    expect(undecided[0].detail).to.contain("the bootloader's try counter decides");
  });

  it('update refuses at once with STORAGE_ERROR (exit 3) on a read-only state dir, touching nothing', async () => {
    const board = await boardWithRunDir();
    const undo = await readOnly(board.config.stateDir);
    try {
      const dev = await board.open();
      try {
        let code: string | undefined;
        await runUpdate(dev).catch((e: { code?: string }) => (code = e.code));
        expect(code).to.equal('STORAGE_ERROR');
      } finally {
        await dev.close();
      }
    } finally {
      await undo();
    }
    expect(await board.boot.state()).to.include({ trySlot: null });
  });
});
