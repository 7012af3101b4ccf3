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

  async insertEvents(rows: readonly StoredEvent[]): Promise<InsertResult> {
    if (rows.length === 0) return { inserted: 0, duplicates: 0, conflicts: [] };
    return this.tx(async (c) => {
      const arrays = [rows.map((r) => r.fleet), rows.map((r) => r.deviceId), rows.map((r) => r.keyId), rows.map((r) => r.seq), rows.map((r) => r.deviceTime), rows.map((r) => r.receivedAt), rows.map((r) => r.type), rows.map((r) => r.verdict), rows.map((r) => r.code ?? null), rows.map((r) => r.digest), rows.map((r) => r.raw)];
      const unnest = EVENT_TYPES.map((t, i) => `${$(i + 1)}::${t}[]`).join(', ');
      const inserted = await this.all(`INSERT INTO events (${EVENT_COLUMNS.join(', ')}) SELECT * FROM unnest(${unnest}) ON CONFLICT DO NOTHING RETURNING fleet, device_id, key_id, seq`, arrays, c);
      const key = (f: unknown, d: unknown, k: unknown, s: unknown): string => `${String(f)}\u0000${String(d)}\u0000${String(k)}\u0000${String(s)}`;
      const fresh = new Set(inserted.map((r) => key(r.fleet, r.device_id, r.key_id, r.seq)));
      const result: InsertResult = { inserted: fresh.size, duplicates: 0, conflicts: [] };
      for (const r of rows.filter((x) => !fresh.has(key(x.fleet, x.deviceId, x.keyId, x.seq)))) {
        const stored = String((await this.all('SELECT digest FROM events WHERE fleet = $1 AND device_id = $2 AND key_id = $3 AND seq = $4', [r.fleet, r.deviceId, r.keyId, r.seq], c))[0]?.digest);
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
    return rangesFromRows(await this.all(rangesSql($), [fleet, deviceId, keyId, limit]));
  }

  // Batched deletes by ctid, each its own statement so no purge holds long locks.
  async applyRetention(bound: RetentionBound, now: Date): Promise<{ events: number; rejected: number }> {
    const out = { events: 0, rejected: 0 };
    for (const table of ['events', 'rejected'] as const) {
      const purge = async (select: (limit: number) => string, params: unknown[], total = Infinity): Promise<void> => {
        for (let left = total; left > 0; ) {
          const limit = Math.min(DELETE_BATCH, left);
          const n = (await this.pool.query(`DELETE FROM ${table} WHERE ctid = ANY(ARRAY(${select(limit)}))`, params)).rowCount ?? 0;
          out[table] += n;
          left -= n;
          if (n < limit) return;
        }
      };
      if (bound.maxAgeSeconds !== undefined) await purge((l) => `SELECT ctid FROM ${table} WHERE received_at < $1 LIMIT ${l}`, [new Date(now.getTime() - bound.maxAgeSeconds * 1000)]);
      if (bound.maxEvents !== undefined) {
        const excess = Number((await this.all(`SELECT COUNT(*) AS n FROM ${table}`))[0]?.n) - bound.maxEvents;
        if (excess > 0) await purge((l) => `SELECT ctid FROM ${table} ORDER BY received_at LIMIT ${l}`, [], excess);
      }
    }
    return out;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
