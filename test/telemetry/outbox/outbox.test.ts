import { expect } from 'chai';
import { Outbox } from '../../../src/telemetry/outbox/outbox.js';
import { MemoryOutboxStore, type OutboxStore } from '../../../src/telemetry/outbox/store.js';
import { expectCodeAsync } from '../../helpers/expect-code.js';
import { EdgesealError } from '../../../src/core/errors.js';

const bytes = (s: string) => new TextEncoder().encode(s);
const ev = (priority: 0 | 1 | 2, text = 'x'.repeat(10)) => () => ({ priority, channel: priority ? ('event' as const) : ('metrics' as const), bytes: bytes(text) });

describe('Outbox', () => {
  it('hands out increasing sequence numbers and keeps entries in order until removed', async () => {
    const box = await Outbox.open(new MemoryOutboxStore());
    const seqs = [];
    for (let i = 0; i < 3; i++) seqs.push((await box.append(ev(1), 1000 + i)).seq);
    expect(seqs).to.deep.equal([1, 2, 3]);
    await box.remove(2);
    expect(box.pending().map((e) => e.seq)).to.deep.equal([1, 3]);
    expect(box.pending(1, 1).map((e) => e.seq)).to.deep.equal([3]);
    expect(box.stats(1010)).to.include({ depth: 2, bytes: 20, oldestAgeMs: 10 });
  });

  it('never reuses a sequence number after a restart, even when the outbox was emptied', async () => {
    const store = new MemoryOutboxStore();
    const box = await Outbox.open(store);
    await box.append(ev(2), 0);
    await box.append(ev(2), 0);
    await box.remove(2);
    await box.remove(1);
    const again = await Outbox.open(store);
    expect((await again.append(ev(2), 0)).seq).to.equal(3);
  });

  it('derives the counter from stored entries when meta lags behind them', async () => {
    const store = new MemoryOutboxStore();
    const box = await Outbox.open(store);
    for (let i = 0; i < 4; i++) await box.append(ev(1), 0);
    expect((await (await Outbox.open(store)).append(ev(1), 0)).seq).to.equal(5);
  });

  it('applies the drop policy at the bound and reports drops by class, persisted', async () => {
    const store = new MemoryOutboxStore();
    const box = await Outbox.open(store, { maxEntries: 3, maxBytes: 1000 });
    await box.append(ev(2), 0);
    await box.append(ev(0), 0);
    await box.append(ev(2), 0);
    const r4 = await box.append(ev(2), 0);
    expect(r4).to.deep.equal({ seq: 4, admitted: true, evicted: [2] });
    const r5 = await box.append(ev(0), 0);
    expect(r5.admitted).to.equal(false);
    expect(box.pending().map((e) => e.seq)).to.deep.equal([1, 3, 4]);
    expect(box.stats(0)).to.deep.include({ dropped: { heartbeat: 2, routine: 0, security: 0 }, lastDroppedSeq: 5 });
    const again = await Outbox.open(store, { maxEntries: 3, maxBytes: 1000 });
    expect(again.stats(0).dropped).to.deep.equal({ heartbeat: 2, routine: 0, security: 0 });
    expect((await again.append(ev(2), 0)).seq).to.equal(6);
  });

  it('enforces the byte bound with running totals that follow evictions and removals', async () => {
    const box = await Outbox.open(new MemoryOutboxStore(), { maxEntries: 100, maxBytes: 25 });
    await box.append(ev(0), 0);
    await box.append(ev(0), 0);
    expect(await box.append(ev(2), 0)).to.deep.equal({ seq: 3, admitted: true, evicted: [1] });
    expect(box.stats(0)).to.include({ depth: 2, bytes: 20 });
    await box.remove(2);
    expect((await box.append(ev(1), 0)).evicted).to.deep.equal([]);
    expect(box.pending().map((e) => e.seq)).to.deep.equal([3, 4]);
    expect(box.stats(0).bytes).to.equal(20);
  });

  it('wakes listeners on append and reports STORAGE_ERROR when the store fails, counting it', async () => {
    const failing: OutboxStore = Object.assign(new MemoryOutboxStore(), {
      put: () => Promise.reject(new Error('disk full')),
    });
    const box = await Outbox.open(failing);
    let woken = 0;
    box.onAppend(() => (woken += 1));
    await expectCodeAsync(() => box.append(ev(2), 0), 'STORAGE_ERROR');
    expect(box.stats(0).storageErrors).to.equal(1);
    expect(woken).to.equal(0);
    const ok = await Outbox.open(new MemoryOutboxStore());
    ok.onAppend(() => (woken += 1));
    await ok.append(ev(2), 0);
    expect(woken).to.equal(1);
  });

  it('keeps running later operations after a failed one', async () => {
    let fail = true;
    const store = new MemoryOutboxStore();
    const put = store.put.bind(store);
    store.put = (e) => (fail ? Promise.reject(new EdgesealError('STORAGE_ERROR', 'x')) : put(e));
    const box = await Outbox.open(store);
    await expectCodeAsync(() => box.append(ev(2), 0), 'STORAGE_ERROR');
    fail = false;
    expect((await box.append(ev(2), 0)).admitted).to.equal(true);
    expect(box.pending().map((e) => e.seq)).to.deep.equal([2]);
  });
});
