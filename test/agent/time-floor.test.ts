import { expect } from 'chai';
import { join } from 'node:path';
import { agentPaths, readAgentStatus } from '../../src/agent/agent-state.js';
import { bootSequence } from '../../src/agent/boot-sequence.js';
import { raisePersistedTimeFloor, readTimeFloor } from '../../src/agent/time-floor-store.js';
import { runUpdate } from '../../src/agent/update.js';
import { statusCommand } from '../../src/cli/status.js';
import { parseEnvelope } from '../../src/telemetry/envelope.js';
import { DiskOutboxStore } from '../../src/telemetry/outbox/disk-store.js';
import { NOW, useBoardRig, withDevice } from './rig.js';

// P5: a clock behind the time floor is reported at boot without stopping it, and updates judge
// expiry at the floor, so setting the clock back cannot resurrect expired metadata.
describe('agent time floor (real swtpm)', function () {
  const rig = useBoardRig(this);

  it('a TUF refresh raises the persisted floor to the clock at which it accepted fresh metadata', async () => {
    const before = Date.now();
    const board = await rig.board(); // the rig's factory step refreshes the metadata cache
    const floor = await withDevice(board, (dev) => readTimeFloor(dev));
    expect(floor?.at.getTime()).to.be.within(before, Date.now());
    expect(floor?.source).to.equal('TUF metadata refresh');
  });

  it('boot with the clock behind the floor: verified and ready, CLOCK_BEHIND_FLOOR logged, reported and in the status', async () => {
    const board = await rig.board();
    const paths = agentPaths(board.config.stateDir);
    await withDevice(board, (dev) => raisePersistedTimeFloor(dev, new Date(NOW.getTime() + 86_400_000), 'test'));
    expect(await withDevice(board, (dev) => bootSequence(dev, NOW))).to.include({ action: 'verified', proceed: true });
    const status = await readAgentStatus(paths);
    expect(status.clock).to.include({ ok: false, code: 'CLOCK_BEHIND_FLOOR', at: NOW.toISOString() });
    const lines: string[] = [];
    await statusCommand.run(['--config', board.configPath], { out: (l) => lines.push(l), err: (l) => lines.push(l), isTTY: false });
    expect(lines.find((l) => l.startsWith('clock'))).to.contain('[CLOCK_BEHIND_FLOOR]');
    const { entries } = await new DiskOutboxStore(join(board.config.stateDir, 'outbox')).load();
    const clock = entries.map((e) => parseEnvelope(e.bytes).event).filter((e) => e.type === 'anchor-status' && e.verdict === 'error');
    expect(clock).to.have.length(1);
    expect(clock[0]).to.include({ code: 'CLOCK_BEHIND_FLOOR' });
  });

  it('boot with the clock ahead of the floor reports nothing', async () => {
    const board = await rig.board();
    const dev = await board.open();
    try {
      expect((await bootSequence(dev, new Date())).proceed).to.equal(true);
    } finally {
      await dev.close();
    }
    expect((await readAgentStatus(agentPaths(board.config.stateDir))).clock).to.include({ ok: true });
    const { entries } = await new DiskOutboxStore(join(board.config.stateDir, 'outbox')).load();
    expect(entries.map((e) => parseEnvelope(e.bytes).event.code)).not.to.include('CLOCK_BEHIND_FLOOR');
  });

  it('an update judges expiry at the floor: with the floor past the metadata expiry it is refused EXPIRED', async () => {
    const board = await rig.board();
    // as if the device had seen the year 2200 and its clock was then set back to the present
    await withDevice(board, (dev) => raisePersistedTimeFloor(dev, new Date('2200-01-01T00:00:00Z'), 'test'));
    const dev = await board.open();
    try {
      const o = await runUpdate(dev);
      expect(o).to.include({ action: 'refused', code: 'EXPIRED' });
    } finally {
      await dev.close();
    }
    expect(await board.boot.state()).to.include({ trySlot: null });
  });
});
