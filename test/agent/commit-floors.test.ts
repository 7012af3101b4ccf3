import { expect } from 'chai';
import { join } from 'node:path';
import { agentPaths } from '../../src/agent/agent-state.js';
import { bootSequence } from '../../src/agent/boot-sequence.js';
import { runUpdate } from '../../src/agent/update.js';
import { readJournal, writeJournal } from '../../src/ota/install-journal.js';
import { parseEnvelope } from '../../src/telemetry/envelope.js';
import { DiskOutboxStore } from '../../src/telemetry/outbox/disk-store.js';
import { startSwtpm, type Swtpm } from '../helpers/swtpm.js';
import { NOW, S, setupBoard, type Board } from './rig.js';

// H5: the install journal (agent/install.json) is an unauthenticated file. The TPM floors raised at a
// commit come from the signed target the trial slot's boot check verified, never from the journal.
describe('agent commit: floors from the verified image, not the journal (real swtpm)', function () {
  this.timeout(60_000);
  let swtpm: Swtpm;
  before(async () => {
    swtpm = await startSwtpm();
  });
  after(async () => {
    await swtpm.stop();
  });

  async function withDevice<T>(board: Board, fn: (dev: Awaited<ReturnType<Board['open']>>) => Promise<T>): Promise<T> {
    const dev = await board.open();
    try {
      return await fn(dev);
    } finally {
      await dev.close();
    }
  }

  it('a journal edited to a higher securityVersion raises nothing; the refusal is kept and reported', async () => {
    const board = await setupBoard(swtpm);
    expect(await withDevice(board, (dev) => runUpdate(dev))).to.include({ action: 'installed' });
    const journal = agentPaths(board.config.stateDir).journal;
    const j = await readJournal(journal);
    await writeJournal(journal, { ...j, install: { ...j.install!, target: { ...j.install!.target, securityVersion: 40 } } });

    await board.boot.simulateBoot();
    await swtpm.restart();
    const boot = await withDevice(board, (dev) => bootSequence(dev, NOW));
    expect(boot).to.include({ action: 'committed', proceed: true });
    expect(await withDevice(board, (dev) => dev.trust.readFloors())).to.include({ securityVersion: 0 });
    const after = await readJournal(journal);
    expect(after).to.deep.include({ state: 'committed' });
    expect(after.install?.outcome?.code).to.equal('FLOOR_VIOLATION');
    expect(await board.boot.state()).to.deep.equal({ active: 'B', good: 'B', trySlot: null, tryCount: 0 });

    const { entries } = await new DiskOutboxStore(join(board.config.stateDir, 'outbox')).load();
    const commits = entries.map((e) => parseEnvelope(e.bytes).event).filter((e) => e.type === 'commit');
    expect(commits.map((e) => [e.verdict, e.code, e.image?.name])).to.deep.equal([['error', 'FLOOR_VIOLATION', S.v2.target]]);
  });
});
