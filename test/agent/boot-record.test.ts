import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { runBootCheck } from '../../src/agent/boot-check.js';
import { bootRecordPath, readBootId, type BootRecord } from '../../src/agent/boot-record.js';
import { bootSequence, type BootOutcome } from '../../src/agent/boot-sequence.js';
import type { Device } from '../../src/agent/device.js';
import { NOW, REPO, S, targetBytes, useBoardRig, withDevice, type Board } from './rig.js';

// Issue 12 C: the boot-check unit hashes each image once per boot and records it under runDir; the
// agent's start in the same boot reuses that digest only when the PCR and event log vouch for it.
describe('agent boot record: one hash per image per boot (real swtpm)', function () {
  const rig = useBoardRig(this);

  // Counts the slot reads (the A/B image's digest) the device makes from here on.
  function countDigests(dev: Device): { calls: number } {
    const slots = dev.ab!.slots;
    const counter = { calls: 0 };
    const measure = slots.measure.bind(slots);
    slots.measure = (slot, length) => {
      counter.calls++;
      return measure(slot, length);
    };
    return counter;
  }

  // the boot-check unit, then the agent starting in the same boot (same swtpm, no PCR reset)
  async function bootCheckUnit(board: Board): Promise<number> {
    return withDevice(board, async (dev) => {
      const counter = countDigests(dev);
      expect((await runBootCheck(dev, NOW)).ok).to.equal(true);
      return counter.calls;
    });
  }
  async function agentStart(board: Board): Promise<{ outcome: BootOutcome; digests: number }> {
    return withDevice(board, async (dev) => {
      const counter = countDigests(dev);
      const outcome = await bootSequence(dev, NOW);
      return { outcome, digests: counter.calls };
    });
  }
  const readRecord = async (board: Board): Promise<BootRecord> => JSON.parse(await readFile(bootRecordPath(board.config.runDir), 'utf8')) as BootRecord;
  const rewrite = (board: Board, record: BootRecord): Promise<void> => writeFile(bootRecordPath(board.config.runDir), JSON.stringify(record));

  it('records the verdict once and the agent start in the same boot reuses it without hashing', async () => {
    const board = await rig.board();
    expect(await bootCheckUnit(board)).to.equal(1);
    const record = await readRecord(board);
    const sha256 = createHash('sha256').update(await targetBytes(REPO, S.v1.target)).digest('hex');
    expect(record.bootId).to.equal(await readBootId());
    expect(record.images).to.deep.equal([{ target: S.v1.target, location: board.slots.a, slot: 'A', length: (await targetBytes(REPO, S.v1.target)).length, sha256, verifiedAt: NOW.toISOString() }]);
    const { outcome, digests } = await agentStart(board);
    expect(outcome.action).to.equal('verified');
    expect(digests, 'the agent read no image').to.equal(0);
    expect(outcome.check.outcomes[0].digest?.sha256).to.equal(sha256);
  });

  it('a manual boot check hashes again even with a record', async () => {
    const board = await rig.board();
    expect(await bootCheckUnit(board)).to.equal(1);
    expect(await bootCheckUnit(board)).to.equal(1);
  });

  it('a forged record (digest changed) is not what the PCR measured: the agent hashes again', async () => {
    const board = await rig.board();
    await bootCheckUnit(board);
    const record = await readRecord(board);
    const forged = { ...record, images: record.images.map((i) => ({ ...i, sha256: createHash('sha256').update('forged').digest('hex') })) };
    await rewrite(board, forged);
    const { outcome, digests } = await agentStart(board);
    expect(digests).to.equal(1);
    expect(outcome.action).to.equal('verified');
    expect((await readRecord(board)).images[0].sha256, 'the record holds the digest hashed again').to.equal(record.images[0].sha256);
  });

  it('a record from another boot id is ignored: the agent hashes again', async () => {
    const board = await rig.board();
    await bootCheckUnit(board);
    await rewrite(board, { ...(await readRecord(board)), bootId: '00000000-0000-4000-8000-000000000000' });
    const { outcome, digests } = await agentStart(board);
    expect(digests).to.equal(1);
    expect(outcome.action).to.equal('verified');
  });

  it('after a reboot (PCRs reset) the old record vouches for nothing: the agent hashes again', async () => {
    const board = await rig.board();
    await bootCheckUnit(board);
    await rig.swtpm.restart();
    const { outcome, digests } = await agentStart(board);
    expect(digests).to.equal(1);
    expect(outcome.action).to.equal('verified');
  });
});
