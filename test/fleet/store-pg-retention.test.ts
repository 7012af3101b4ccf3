import { expect } from 'chai';
import pg from 'pg';
import { ingestBatch } from '../../src/fleet/ingest.js';
import { keyLookupFrom } from '../../src/fleet/registry.js';
import { PG_MIGRATIONS } from '../../src/fleet/store/pg-schema.js';
import { PgFleetStore } from '../../src/fleet/store/pg-store.js';
import { startPostgres, type Postgres } from '../helpers/postgres.js';
import { simDevice } from './fleet-fixtures.js';

const DAY = 86_400_000;
const day = (d: number, s = 0): Date => new Date(Date.UTC(2026, 2, d, 12) + s * 1000); // 2026-03-d 12:00:00 + s

// PostgreSQL keeps events in day partitions (by received time, UTC) and retention drops whole days
// past the bound; the row key lives in the unpartitioned event_keys, so idempotency and seq-conflict
// detection hold across days. Checked on a real server through its catalog.
describe('fleet store: PostgreSQL day partitions and retention by partition drop', function () {
  this.timeout(60_000);
  let server: Postgres;
  let n = 0;
  before(async () => (server = await startPostgres()));
  after(async () => server.stop());

  const query = async (url: string, sql: string): Promise<Record<string, unknown>[]> => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      return (await c.query(sql)).rows as Record<string, unknown>[];
    } finally {
      await c.end();
    }
  };
  const partitions = async (url: string): Promise<string[]> =>
    (await query(url, `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'events'::regclass ORDER BY 1`)).map((r) => String(r.relname));

  it('drops whole days past the age bound, trims only the day that straddles it, and leaves no key behind', async () => {
    const url = await server.createDatabase(`retention_${++n}`);
    const store = await PgFleetStore.open(url);
    const d = simDevice(1);
    await store.enroll(d.enrollment, day(1));
    const lookup = keyLookupFrom(await store.devices());
    for (let k = 1; k <= 4; k++) {
      await ingestBatch(store, lookup, Array.from({ length: 10 }, (_, s) => ({ raw: d.envelope((k - 1) * 10 + s + 1), receivedAt: day(k, s) })));
    }
    expect(await partitions(url)).to.deep.equal(['events_20260301', 'events_20260302', 'events_20260303', 'events_20260304']);
    // Across days: a re-delivery on day 5 of an event stored on day 1 is a duplicate, another version a conflict.
    const again = await ingestBatch(store, lookup, [{ raw: d.envelope(1), receivedAt: day(5) }, { raw: d.envelope(2, { detail: 'other bytes' }), receivedAt: day(5) }]);
    expect(again).to.deep.include({ inserted: 0, duplicates: 1 });
    expect(again.conflicts.map((c) => c.seq)).to.deep.equal([2]);

    // Bound: 2 days before day 5 12:00:05 → day 1 and day 2 go whole, day 3 loses seqs 21-25 (12:00:00-04).
    const removed = await store.applyRetention({ maxAgeSeconds: (2 * DAY) / 1000 }, day(5, 5));
    expect(removed).to.deep.equal({ events: 25, rejected: 0 });
    expect(await partitions(url)).to.deep.equal(['events_20260303', 'events_20260304', 'events_20260305']);
    const left = await store.events({}, 100);
    expect(left.map((e) => e.seq)).to.deep.equal(Array.from({ length: 15 }, (_, i) => i + 26));
    expect(left.every((e) => Date.parse(e.receivedAt) >= day(3, 5).getTime())).to.equal(true);
    expect(await query(url, 'SELECT COUNT(*)::int AS n FROM event_keys')).to.deep.equal([{ n: 15 }]);

    // Count bound: the oldest whole day fits in the excess and is dropped; the rest is trimmed by rows.
    expect(await store.applyRetention({ maxEvents: 3 }, day(5, 5))).to.deep.equal({ events: 12, rejected: 0 });
    expect(await partitions(url)).to.deep.equal(['events_20260304', 'events_20260305']);
    expect((await store.events({}, 100)).map((e) => e.seq)).to.deep.equal([38, 39, 40]);
    expect(await store.storedRanges('f1', d.enrollment.deviceId, d.signer.keyid, 10)).to.deep.equal([[38, 40]]);
    await store.close();
  });

  it('migrates a schema-1 database: its events move into day partitions and keep their keys', async () => {
    const url = await server.createDatabase(`retention_${++n}`);
    const d = simDevice(2);
    await query(url, `${PG_MIGRATIONS[0] ?? ''}; CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now()); INSERT INTO schema_migrations (version) VALUES (1)`);
    const v1 = await PgFleetStore.open(await server.createDatabase(`scratch_${n}`)); // only to classify rows
    await v1.enroll(d.enrollment, day(1));
    const rows = (await ingestBatch(v1, keyLookupFrom(await v1.devices()), [1, 2, 3].map((s) => ({ raw: d.envelope(s), receivedAt: day(s) })))).verified;
    await v1.close();
    const values = rows.map((r) => `('f1', '${r.deviceId}', '${r.keyId}', ${r.seq}, '${r.deviceTime}', '${r.receivedAt}', '${r.type}', '${r.verdict}', NULL, '${r.digest}', '${r.raw.replace(/'/g, "''")}')`);
    await query(url, `INSERT INTO events VALUES ${values.join(', ')}`);

    const store = await PgFleetStore.open(url);
    expect(await query(url, 'SELECT MAX(version) AS v FROM schema_migrations')).to.deep.equal([{ v: PG_MIGRATIONS.length }]);
    expect(await partitions(url)).to.deep.equal(['events_20260301', 'events_20260302', 'events_20260303']);
    expect((await store.events({}, 10)).map((e) => [e.seq, e.receivedAt])).to.deep.equal(rows.map((r) => [r.seq, r.receivedAt]));
    expect(await store.insertEvents(rows)).to.deep.equal({ inserted: 0, duplicates: 3, conflicts: [] });
    await store.close();
  });
});
