import type { Pool, PoolClient } from 'pg';
import { EdgesealError, type ErrorCode } from '../../core/errors.js';
import type { Enrollment } from '../enrollment.js';
import { importOptional } from '../optional-import.js';
import { planEnroll } from './enroll-plan.js';
import type { DeviceRecord, EnrollOutcome, EventFilter, FleetStore, InsertResult, RejectedEvent, RejectedFilter, RetentionBound, SeqConflict, StoredEvent, StoredRejected } from './port.js';
import { conflictFromRow, devicesFromRows, eventFromRow, filterSql, rangesFromRows, rangesSql, rejectedFromRow } from './rows.js';
import { PG_MIGRATIONS } from './pg-schema.js';

const DELETE_BATCH = 5000;
const MIGRATION_LOCK = 0x65646765; // pg_advisory_xact_lock key ("edge")
const EVENT_COLUMNS = ['fleet', 'device_id', 'key_id', 'seq', 'device_time', 'received_at', 'type', 'verdict', 'code', 'digest', 'raw'] as const;
const EVENT_TYPES = ['text', 'text', 'text', 'bigint', 'timestamptz', 'timestamptz', 'text', 'text', 'text', 'text', 'text'] as const;
type Row = Record<string, unknown>;
const $ = (i: number): string => `$${i}`;

// The production store: PostgreSQL through a pg Pool; a batch of events is one INSERT … SELECT FROM
// unnest(arrays) (one round trip whatever the batch size).
export class PgFleetStore implements FleetStore {
  readonly kind = 'postgres' as const;
  private readonly partitions = new Set<string>(); // YYYY-MM-DD days whose events partition exists
  private constructor(private readonly pool: Pool) {}

  static async open(connectionString: string): Promise<PgFleetStore> {
    const pg = await importOptional('pg', 'fleet store (PostgreSQL)', () => import('pg'));
    const pool = new pg.default.Pool({ connectionString, max: 4 });
    // An idle connection dropped by the server (restart, admin shutdown) is discarded by the pool and the
    // next query reconnects; without a listener the 'error' event would end the collector process.
    pool.on('error', () => undefined);
    const store = new PgFleetStore(pool);
    try {
      await store.tx(async (c) => {
        await c.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`);
        await c.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())');
        const applied = Number(((await c.query('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations')).rows[0] as Row).v);
        if (applied > PG_MIGRATIONS.length) throw new EdgesealError('STORAGE_ERROR', `fleet store: expected schema version ≤ ${PG_MIGRATIONS.length}, found ${applied} (written by a newer edgeseal)`);
        for (let v = applied + 1; v <= PG_MIGRATIONS.length; v++) {
          await c.query(PG_MIGRATIONS[v - 1]);
          await c.query('INSERT INTO schema_migrations (version) VALUES ($1)', [v]);
        }
      });
    } catch (err) {
      await pool.end();
      if (err instanceof EdgesealError) throw err;
      throw new EdgesealError('STORAGE_ERROR', `fleet store: expected a reachable PostgreSQL, found: ${(err as Error).message}`, { cause: err });
    }
    return store;
  }

  private async tx<T>(fn: (c: PoolClient) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      const out = await fn(c);
      await c.query('COMMIT');
      return out;
    } catch (err) {
      await c.query('ROLLBACK');
      throw err;
    } finally {
      c.release();
    }
  }

  private async all(sql: string, params: unknown[] = [], c: Pool | PoolClient = this.pool): Promise<Row[]> {
    return (await c.query(sql, params)).rows as Row[];
  }

  async enroll(e: Enrollment, now: Date): Promise<EnrollOutcome> {
    return this.tx(async (c) => {
      await c.query('SELECT 1 FROM devices WHERE fleet = $1 AND device_id = $2 FOR UPDATE', [e.fleet, e.deviceId]);
      const plan = planEnroll(await this.deviceIn(c, e.fleet, e.deviceId), e);
      if (plan.upsertDevice) {
        await c.query(`INSERT INTO devices VALUES ($1, $2, $3, 'active', $4) ON CONFLICT (fleet, device_id) DO UPDATE SET hardware_id = excluded.hardware_id, status = 'active', status_at = excluded.status_at`, [e.fleet, e.deviceId, e.hardwareId, now]);
      }
      if (plan.retireCurrentKeys) await c.query('UPDATE device_keys SET retired_at = $1 WHERE fleet = $2 AND device_id = $3 AND retired_at IS NULL', [now, e.fleet, e.deviceId]);
      if (plan.insertKey) await c.query('INSERT INTO device_keys VALUES ($1, $2, $3, $4, $5, $6, NULL)', [e.fleet, e.deviceId, e.keyId, e.publicKey, e.hardwareId, now]);
      return plan.outcome;
    });
  }

  async decommission(fleet: string, deviceId: string, now: Date): Promise<boolean> {
    const r = await this.pool.query(`UPDATE devices SET status = 'decommissioned', status_at = $1 WHERE fleet = $2 AND device_id = $3 AND status = 'active'`, [now, fleet, deviceId]);
    return (r.rowCount ?? 0) > 0;
  }

  private async deviceIn(c: Pool | PoolClient, fleet: string, deviceId: string): Promise<DeviceRecord | undefined> {
    const where = 'WHERE fleet = $1 AND device_id = $2';
    return devicesFromRows(await this.all(`SELECT * FROM devices ${where}`, [fleet, deviceId], c), await this.all(`SELECT * FROM device_keys ${where} ORDER BY enrolled_at, key_id`, [fleet, deviceId], c))[0];
  }

  async device(fleet: string, deviceId: string): Promise<DeviceRecord | undefined> {
    return this.deviceIn(this.pool, fleet, deviceId);
  }

  async devices(): Promise<DeviceRecord[]> {
    return devicesFromRows(await this.all('SELECT * FROM devices ORDER BY fleet, device_id'), await this.all('SELECT * FROM device_keys ORDER BY enrolled_at, key_id'));
  }

  // Creates the day partitions these rows go to (outside the insert transaction: the function takes a
  // lock that would otherwise serialise every insert). Days already seen by this process are skipped.
  private async ensurePartitions(rows: readonly StoredEvent[]): Promise<void> {
    const days = [...new Set(rows.map((r) => r.receivedAt.slice(0, 10)))].filter((d) => !this.partitions.has(d));
    for (const day of days) {
      await this.pool.query('SELECT edgeseal_event_partition($1::date)', [day]);
      this.partitions.add(day);
    }
  }

  // One statement: the new row keys go into event_keys (idempotent there, across partitions), and
  // only the rows whose key was new go into the partitioned events table.
  async insertEvents(rows: readonly StoredEvent[]): Promise<InsertResult> {
    if (rows.length === 0) return { inserted: 0, duplicates: 0, conflicts: [] };
    await this.ensurePartitions(rows);
    return this.tx(async (c) => {
      const arrays = [rows.map((r) => r.fleet), rows.map((r) => r.deviceId), rows.map((r) => r.keyId), rows.map((r) => r.seq), rows.map((r) => r.deviceTime), rows.map((r) => r.receivedAt), rows.map((r) => r.type), rows.map((r) => r.verdict), rows.map((r) => r.code ?? null), rows.map((r) => r.digest), rows.map((r) => r.raw)];
      const unnest = EVENT_TYPES.map((t, i) => `${$(i + 1)}::${t}[]`).join(', ');
      const cols = EVENT_COLUMNS.join(', ');
      const inserted = await this.all(
        `WITH input AS (SELECT DISTINCT ON (fleet, device_id, key_id, seq) * FROM unnest(${unnest}) AS t(${cols})),
         fresh AS (INSERT INTO event_keys SELECT fleet, device_id, key_id, seq, digest, received_at FROM input ON CONFLICT DO NOTHING RETURNING fleet, device_id, key_id, seq)
         INSERT INTO events (${cols}) SELECT input.* FROM input JOIN fresh USING (fleet, device_id, key_id, seq) RETURNING fleet, device_id, key_id, seq`,
        arrays, c);
      const key = (f: unknown, d: unknown, k: unknown, s: unknown): string => `${String(f)}\u0000${String(d)}\u0000${String(k)}\u0000${String(s)}`;
      const fresh = new Set(inserted.map((r) => key(r.fleet, r.device_id, r.key_id, r.seq)));
      const result: InsertResult = { inserted: fresh.size, duplicates: 0, conflicts: [] };
      for (const r of rows.filter((x) => !fresh.has(key(x.fleet, x.deviceId, x.keyId, x.seq)))) {
        const stored = String((await this.all('SELECT digest FROM event_keys WHERE fleet = $1 AND device_id = $2 AND key_id = $3 AND seq = $4', [r.fleet, r.deviceId, r.keyId, r.seq], c))[0]?.digest);
        if (stored === r.digest) { result.duplicates += 1; continue; }
        const conflict: SeqConflict = { fleet: r.fleet, deviceId: r.deviceId, keyId: r.keyId, seq: r.seq, storedDigest: stored, newDigest: r.digest, receivedAt: r.receivedAt };
        await c.query('INSERT INTO seq_conflicts (fleet, device_id, key_id, seq, stored_digest, new_digest, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7)', [r.fleet, r.deviceId, r.keyId, r.seq, stored, r.digest, r.receivedAt]);
        result.conflicts.push(conflict);
      }
      return result;
    });
  }

  async insertRejected(rows: readonly RejectedEvent[]): Promise<void> {
    if (rows.length === 0) return;
    await this.pool.query(
      'INSERT INTO rejected (received_at, reason, message, fleet, device_id, key_id, seq, raw) SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::text[])',
      [rows.map((r) => r.receivedAt), rows.map((r) => r.reason), rows.map((r) => r.message), rows.map((r) => r.fleet ?? null), rows.map((r) => r.deviceId ?? null), rows.map((r) => r.keyId ?? null), rows.map((r) => r.seq ?? null), rows.map((r) => r.raw)],
    );
  }

  async rejected(filter: RejectedFilter, limit: number): Promise<StoredRejected[]> {
    const { where, params } = filterSql(filter, $);
    return (await this.all(`SELECT * FROM rejected ${where} ORDER BY id LIMIT ${$(params.length + 1)}`, [...params, limit])).map(rejectedFromRow);
  }

  async deleteRejected(ids: readonly number[]): Promise<void> {
    await this.pool.query('DELETE FROM rejected WHERE id = ANY($1::bigint[])', [ids]);
  }

  async rejectedCounts(): Promise<Partial<Record<ErrorCode, number>>> {
    return Object.fromEntries((await this.all('SELECT reason, COUNT(*) AS n FROM rejected GROUP BY reason')).map((r) => [String(r.reason), Number(r.n)]));
  }

  async conflicts(): Promise<SeqConflict[]> {
    return (await this.all('SELECT * FROM seq_conflicts ORDER BY id')).map(conflictFromRow);
  }

  async events(filter: EventFilter, limit: number): Promise<StoredEvent[]> {
    const { where, params } = filterSql(filter, $);
    return (await this.all(`SELECT * FROM events ${where} ORDER BY fleet, device_id, key_id, seq LIMIT ${$(params.length + 1)}`, [...params, limit])).map(eventFromRow);
  }

  async countEvents(): Promise<number> {
    return Number((await this.all('SELECT COUNT(*) AS n FROM events'))[0]?.n);
  }

  async storedRanges(fleet: string, deviceId: string, keyId: string, limit: number): Promise<[number, number][]> {
    return rangesFromRows(await this.all(rangesSql($, 'event_keys'), [fleet, deviceId, keyId, limit]));
  }

  // Repeats a DELETE of at most DELETE_BATCH rows (`sql(limit)` returns its count as n) until fewer
  // come back: each batch is its own short statement, so no purge holds long locks.
  private async deleteBatched(sql: (limit: number) => string, params: unknown[], total = Infinity): Promise<number> {
    let done = 0;
    while (done < total) {
      const limit = Math.min(DELETE_BATCH, total - done);
      const n = Number((await this.all(sql(limit), params))[0]?.n ?? 0);
      done += n;
      if (n < limit) break;
    }
    return done;
  }

  // Events rows with their keys, oldest first (the day partition that straddles the bound).
  private purgeEvents(where: string, params: unknown[], total = Infinity): Promise<number> {
    return this.deleteBatched((l) => `WITH gone AS (DELETE FROM events WHERE (tableoid, ctid) IN (SELECT tableoid, ctid FROM events ${where} ORDER BY received_at LIMIT ${l}) RETURNING fleet, device_id, key_id, seq),
      k AS (DELETE FROM event_keys x USING gone g WHERE x.fleet = g.fleet AND x.device_id = g.device_id AND x.key_id = g.key_id AND x.seq = g.seq)
      SELECT COUNT(*) AS n FROM gone`, params, total);
  }

  // Day partitions, oldest first, with their row counts.
  private async dayPartitions(): Promise<{ name: string; upper: Date; rows: number }[]> {
    const names = (await this.all(`SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'events'::regclass ORDER BY c.relname`)).map((r) => String(r.name));
    const out: { name: string; upper: Date; rows: number }[] = [];
    for (const name of names) {
      const day = new Date(`${name.slice(7, 11)}-${name.slice(11, 13)}-${name.slice(13, 15)}T00:00:00Z`);
      out.push({ name, upper: new Date(day.getTime() + 86_400_000), rows: Number((await this.all(`SELECT COUNT(*) AS n FROM ${name}`))[0]?.n) });
    }
    return out;
  }

  // Drops a whole day partition; its keys go after (a crash in between leaves keys without rows, past
  // retention anyway: a re-delivery of such an old event counts as a duplicate, never a second row).
  private async dropPartition(p: { name: string; upper: Date }): Promise<void> {
    await this.pool.query(`DROP TABLE ${p.name}`);
    this.partitions.delete(p.name.slice(7, 11) + '-' + p.name.slice(11, 13) + '-' + p.name.slice(13, 15));
    await this.deleteBatched((l) => `WITH gone AS (DELETE FROM event_keys WHERE ctid = ANY(ARRAY(SELECT ctid FROM event_keys WHERE received_at < $1 LIMIT ${l})) RETURNING 1) SELECT COUNT(*) AS n FROM gone`, [p.upper]);
  }

  // Age: whole day partitions past the bound are dropped (no row deletes, no bloat); only the day that
  // straddles the bound is trimmed row by row. Count: whole oldest days while they fit in the excess,
  // then rows. Rejected events (unpartitioned, rare) by batched deletes.
  async applyRetention(bound: RetentionBound, now: Date): Promise<{ events: number; rejected: number }> {
    const out = { events: 0, rejected: 0 };
    const purgeRejected = (select: (limit: number) => string, params: unknown[], total = Infinity): Promise<number> =>
      this.deleteBatched((l) => `WITH gone AS (DELETE FROM rejected WHERE ctid = ANY(ARRAY(${select(l)})) RETURNING 1) SELECT COUNT(*) AS n FROM gone`, params, total);
    if (bound.maxAgeSeconds !== undefined) {
      const cutoff = new Date(now.getTime() - bound.maxAgeSeconds * 1000);
      for (const p of await this.dayPartitions()) {
        if (p.upper > cutoff) break;
        await this.dropPartition(p);
        out.events += p.rows;
      }
      out.events += await this.purgeEvents('WHERE received_at < $1', [cutoff]);
      out.rejected += await purgeRejected((l) => `SELECT ctid FROM rejected WHERE received_at < $1 LIMIT ${l}`, [cutoff]);
    }
    if (bound.maxEvents !== undefined) {
      let excess = Number((await this.all('SELECT COUNT(*) AS n FROM events'))[0]?.n) - bound.maxEvents;
      for (const p of await this.dayPartitions()) {
        if (p.rows > excess) break;
        await this.dropPartition(p);
        out.events += p.rows;
        excess -= p.rows;
      }
      if (excess > 0) out.events += await this.purgeEvents('', [], excess);
      const rejectedExcess = Number((await this.all('SELECT COUNT(*) AS n FROM rejected'))[0]?.n) - bound.maxEvents;
      if (rejectedExcess > 0) out.rejected += await purgeRejected((l) => `SELECT ctid FROM rejected ORDER BY received_at LIMIT ${l}`, [], rejectedExcess);
    }
    return out;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
