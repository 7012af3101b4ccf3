import { expect } from 'chai';
import type { OutboxStore, StoredEntry } from '../../../src/telemetry/outbox/store.js';

// One contract every OutboxStore implementation must satisfy (STYLE.md §5). `build` returns a fresh
// store and a `reopen` that yields a new instance over the same backing storage (a restart).
export interface StoreHarness {
  store: OutboxStore;
  reopen: () => Promise<OutboxStore>;
}

const entry = (seq: number, priority: 0 | 1 | 2 = 2, text = `event ${seq}`): StoredEntry => ({
  seq,
  priority,
  channel: priority === 0 ? 'metrics' : 'event',
  time: 1_700_000_000_000 + seq,
  bytes: new TextEncoder().encode(text),
});

export function outboxStoreContract(name: string, build: () => Promise<StoreHarness>): void {
  describe(`OutboxStore contract: ${name}`, () => {
    it('starts empty with no meta', async () => {
      const { store } = await build();
      expect(await store.load()).to.deep.equal({ entries: [], meta: undefined });
    });

    it('returns stored entries in sequence order with their bytes, priority, channel and time', async () => {
      const { store, reopen } = await build();
      await store.load();
      for (const e of [entry(3), entry(1, 0), entry(2, 1)]) await store.put(e);
      const { entries } = await (await reopen()).load();
      expect(entries.map((e) => e.seq)).to.deep.equal([1, 2, 3]);
      expect(entries[0]).to.include({ priority: 0, channel: 'metrics', time: 1_700_000_000_001 });
      expect(Buffer.from(entries[2].bytes).toString()).to.equal('event 3');
    });

    it('forgets deleted entries across a reopen and ignores unknown seqs', async () => {
      const { store, reopen } = await build();
      await store.load();
      for (const s of [1, 2, 3]) await store.put(entry(s));
      await store.delete([2, 99]);
      const { entries } = await (await reopen()).load();
      expect(entries.map((e) => e.seq)).to.deep.equal([1, 3]);
    });

    it('can delete entries that were loaded by a reopened instance', async () => {
      const { store, reopen } = await build();
      await store.load();
      await store.put(entry(1));
      const again = await reopen();
      await again.load();
      await again.delete([1]);
      expect((await (await reopen()).load()).entries).to.deep.equal([]);
    });

    it('keeps the latest meta across a reopen', async () => {
      const { store, reopen } = await build();
      await store.load();
      await store.saveMeta({ nextSeq: 5, dropped: { heartbeat: 1, routine: 0, security: 0 } });
      await store.saveMeta({ nextSeq: 9, dropped: { heartbeat: 2, routine: 1, security: 0 } });
      expect((await (await reopen()).load()).meta).to.deep.equal({ nextSeq: 9, dropped: { heartbeat: 2, routine: 1, security: 0 } });
    });
  });
}
