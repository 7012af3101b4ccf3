import { expect } from 'chai';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { agentPaths, readAgentStatus } from '../../src/agent/agent-state.js';
import { bootSequence } from '../../src/agent/boot-sequence.js';
import { raisePersistedTimeFloor, readTimeFloor } from '../../src/agent/time-floor-store.js';
import { runUpdate } from '../../src/agent/update.js';
import { bootCheckCommand } from '../../src/cli/boot-check.js';
import { EXIT } from '../../src/cli/command.js';
import { parseEnvelope } from '../../src/telemetry/envelope.js';
import { DiskOutboxStore } from '../../src/telemetry/outbox/disk-store.js';
import { NOW, useBoardRig, withDevice, type Board } from './rig.js';

// Finding 7: the time floor survives a damaged or deleted file (TPM NV copy), and the one-shot boot
// check reports a clock behind it like the agent does.

async function events(board: Board): Promise<{ type: string; code?: string; detail?: string }[]> {
  const { entries } = await new DiskOutboxStore(join(board.config.stateDir, 'outbox')).load();
  return entries.map((e) => parseEnvelope(e.bytes).event);
}

describe('time floor faults (real swtpm)', function () {
  const rig = useBoardRig(this);

  it('the TPM NV copy is written when the floor advances a day or more, and read back', async () => {
    const board = await rig.board();
    await withDevice(board, async (dev) => {
      const nv = await dev.trust.readTimeFloor();
      expect(nv, 'the factory refresh created and wrote the NV floor').not.to.equal(undefined);
      const at = new Date(nv!.getTime() + 3600_000);
      expect(await dev.trust.raiseTimeFloor(at)).to.equal('unchanged');
      const day = new Date(nv!.getTime() + 86_400_000);
      expect(await dev.trust.raiseTimeFloor(day)).to.equal('raised');
      expect((await dev.trust.readTimeFloor())?.toISOString()).to.equal(day.toISOString());
    });
  });

  it('a corrupt time-floor.json no longer fails every update with STORAGE_ERROR', async () => {
    const board = await rig.board();
    await writeFile(agentPaths(board.config.stateDir).timeFloor, '{"at": "garb');
    expect(await withDevice(board, (dev) => runUpdate(dev))).to.include({ action: 'installed' });
  });

  it('a corrupt time-floor.json is repaired from the NV floor, written back and reported', async () => {
    const board = await rig.board();
    const paths = agentPaths(board.config.stateDir);
    const nv = await withDevice(board, (dev) => dev.trust.readTimeFloor());
    await writeFile(paths.timeFloor, '[]');
    const floor = await withDevice(board, (dev) => readTimeFloor(dev));
    expect(floor?.at.toISOString()).to.equal(nv?.toISOString());
    expect(JSON.parse(await readFile(paths.timeFloor, 'utf8'))).to.deep.equal({ at: nv?.toISOString(), source: 'repaired from TPM NV time floor' });
    const reported = (await events(board)).filter((e) => e.type === 'anchor-status' && e.code === 'STORAGE_ERROR');
    expect(reported).to.have.length(1);
    expect(reported[0].detail).to.contain('damaged').and.contain('repaired to');
  });

  it('a deleted time-floor.json does not silence the clock alarm: the NV floor still raises CLOCK_BEHIND_FLOOR', async () => {
    const board = await rig.board(); // the factory refresh put the floor (file and NV) at the real clock, after NOW
    const paths = agentPaths(board.config.stateDir);
    await rm(paths.timeFloor);
    expect(await withDevice(board, (dev) => bootSequence(dev, NOW))).to.include({ action: 'verified', proceed: true });
    expect((await readAgentStatus(paths)).clock).to.include({ ok: false, code: 'CLOCK_BEHIND_FLOOR' });
  });

  it('the one-shot boot-check reports CLOCK_BEHIND_FLOOR like the agent; the exit code stays the verification', async () => {
    const board = await rig.board();
    await withDevice(board, (dev) => raisePersistedTimeFloor(dev, new Date(Date.now() + 2 * 86_400_000), 'test'));
    const out: string[] = [];
    const err: string[] = [];
    const code = await bootCheckCommand.run(['--config', board.configPath], { out: (l) => out.push(l), err: (l) => err.push(l), isTTY: false });
    expect(code).to.equal(EXIT.OK);
    expect(out.join('\n')).to.contain('all images verified');
    expect(err.join('\n')).to.contain('[CLOCK_BEHIND_FLOOR]');
    expect((await readAgentStatus(agentPaths(board.config.stateDir))).clock).to.include({ ok: false, code: 'CLOCK_BEHIND_FLOOR' });
    expect((await events(board)).map((e) => e.code)).to.include('CLOCK_BEHIND_FLOOR');
  });
});
