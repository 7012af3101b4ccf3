import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { ingestBatch } from '../../src/fleet/ingest.js';
import { keyLookupFrom } from '../../src/fleet/registry.js';
import { SqliteFleetStore } from '../../src/fleet/store/sqlite-store.js';
import { simDevice } from './fleet-fixtures.js';
import { storeContract } from './store-contract.js';

describe('fleet store: SQLite (node:sqlite, a real file)', () => {
  let dir: string;
  let n = 0;
  before(async () => (dir = await mkdtemp(join(tmpdir(), 'es-fleet-sqlite-'))));
  after(async () => rm(dir, { recursive: true, force: true }));

  storeContract(() => Promise.resolve(SqliteFleetStore.open(join(dir, `fleet-${++n}.db`))));

  it('uses WAL and gives the pages of purged events back (incremental vacuum)', async () => {
    const path = join(dir, 'vacuum.db');
    const store = SqliteFleetStore.open(path);
    const d = simDevice(5);
    await store.enroll(d.enrollment, new Date(0));
    const big = 'x'.repeat(400);
    await ingestBatch(store, keyLookupFrom(await store.devices()), Array.from({ length: 300 }, (_, i) => ({ raw: d.envelope(i + 1, { detail: big }), receivedAt: new Date(i * 1000) })));
    expect(await store.applyRetention({ maxEvents: 10 }, new Date(300_000))).to.deep.equal({ events: 290, rejected: 0 });
    expect(store.freePages()).to.equal(0);
    await store.close();
    const raw = new DatabaseSync(path);
    expect(raw.prepare('PRAGMA journal_mode').get()).to.deep.equal({ journal_mode: 'wal' });
    expect(raw.prepare('PRAGMA user_version').get()).to.deep.equal({ user_version: 1 });
    raw.close();
  });
});
