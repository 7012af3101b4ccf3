import { expect } from 'chai';
import { join } from 'node:path';
import { agentPaths } from '../../src/agent/agent-state.js';
import { runUpdate } from '../../src/agent/update.js';
import { readJournal, writeJournal } from '../../src/ota/install-journal.js';
import { parseEnvelope } from '../../src/telemetry/envelope.js';
import { DiskOutboxStore } from '../../src/telemetry/outbox/disk-store.js';
import { S, useBoardRig, withDevice } from './rig.js';

// H5: the install journal (agent/install.json) is an unauthenticated file. The TPM floors raised at a
// commit come from the signed target the trial slot's boot check verified, never from the journal.
describe('agent commit: floors from the verified image, not the journal (real swtpm)', function () {
  const rig = useBoardRig(this);

  it('a journal edited to a higher securityVersion raises nothing; the refusal is kept and reported', async () => {
    const board = await rig.board();
    expect(await withDevice(board, (dev) => runUpdate(dev))).to.include({ action: 'installed' });
    const journal = agentPaths(board.config.stateDir).journal;
    const j = await readJournal(journal);
    await writeJournal(journal, { ...j, install: { ...j.install!, target: { ...j.install!.target, securityVersion: 40 } } });

    const boot = await rig.reboot(board);
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
