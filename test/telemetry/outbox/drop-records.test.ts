import { expect } from 'chai';
import { Outbox } from '../../../src/telemetry/outbox/outbox.js';
import { MemoryOutboxStore } from '../../../src/telemetry/outbox/store.js';
import type { SeqRange } from '../../../src/telemetry/seq-ranges.js';

const entry = (priority: 0 | 1 | 2) => () => ({ priority, channel: 'event' as const, bytes: new Uint8Array(10) });
// What the reporter's outbox-drop event is to the outbox: a security entry built from the ranges it records.
const record = (seen: SeqRange[][]) => (_seq: number, ranges: SeqRange[]) => {
  seen.push(ranges);
  return { priority: 2 as const, channel: 'event' as const, bytes: new Uint8Array(10) };
};

describe('Outbox drop records (schema 2 outbox-drop)', () => {
  it('keeps unreported drop ranges across a restart and forgets them once a record is stored', async () => {
    const store = new MemoryOutboxStore();
    const box = await Outbox.open(store, { maxEntries: 2, maxBytes: 1 << 20 });
    await box.append(entry(0), 0); // 1
    await box.append(entry(0), 0); // 2
    await box.append(entry(1), 0); // 3 evicts 1
    await box.append(entry(1), 0); // 4 evicts 2
    expect(box.unreportedDrops()).to.deep.equal([[1, 2]]);
    const again = await Outbox.open(store, { maxEntries: 3, maxBytes: 1 << 20 });
    expect(again.unreportedDrops()).to.deep.equal([[1, 2]]);
    const seen: SeqRange[][] = [];
    expect(await again.reportDrops(record(seen), 0)).to.deep.include({ seq: 5, admitted: true });
    expect([seen, again.unreportedDrops()]).to.deep.equal([[[[1, 2]]], []]);
    expect(await again.reportDrops(record(seen), 0)).to.equal(undefined); // nothing left to record
  });

  it('never evicts a security verdict for a record, and records again the ranges of a record that was evicted', async () => {
    const box = await Outbox.open(new MemoryOutboxStore(), { maxEntries: 3, maxBytes: 1 << 20 });
    await box.append(entry(0), 0); // 1
    await box.append(entry(2), 0); // 2
    await box.append(entry(2), 0); // 3
    await box.append(entry(2), 0); // 4 evicts heartbeat 1
    const seen: SeqRange[][] = [];
    expect(await box.reportDrops(record(seen), 0), 'only security entries queued').to.equal(undefined);
    await box.remove(2);
    expect(await box.reportDrops(record(seen), 0)).to.deep.include({ seq: 5, admitted: true }); // the seq 5 was not burnt
    await box.append(entry(2), 0); // 6 evicts the oldest security entry: 3
    await box.append(entry(2), 0); // 7 evicts 4
    await box.append(entry(2), 0); // 8 evicts the record, 5: its [1, 1] is unrecorded again
    expect(box.unreportedDrops()).to.deep.equal([[1, 1], [3, 5]]);
    expect(box.stats(0).dropped).to.deep.equal({ heartbeat: 1, routine: 0, security: 3 });
  });

  it('leaves a damaged range in meta.json out of the next record', async () => {
    const store = new MemoryOutboxStore();
    await store.saveMeta({ nextSeq: 9, dropped: { heartbeat: 2, routine: 0, security: 0 }, unreported: [[3, 4], [0, 1], [7, 5]] });
    const box = await Outbox.open(store);
    expect(box.unreportedDrops()).to.deep.equal([[3, 4]]);
  });
});
