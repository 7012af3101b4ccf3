import { DatabaseSync, type SQLInputValue } from 'node:sqlite';
import { EdgesealError, type ErrorCode } from '../../core/errors.js';
import type { Enrollment } from '../enrollment.js';
import { planEnroll } from './enroll-plan.js';
import type { DeviceRecord, EnrollOutcome, EventFilter, FleetStore, InsertResult, RejectedEvent, RejectedFilter, RetentionBound, SeqConflict, StoredEvent, StoredRejected } from './port.js';
import { conflictFromRow, devicesFromRows, eventFromRow, filterSql, rangesFromRows, rangesSql, rejectedFromRow } from './rows.js';
import { SQLITE_MIGRATIONS } from './sqlite-schema.js';

const DELETE_BATCH = 2000; // rows per retention DELETE, so a large purge never holds the write lock long
type Row = Record<string, unknown>;

// node:sqlite is synchronous; the port is async (PostgreSQL). A throw becomes a rejection.
function settle<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}

// The embedded default store: one file, WAL so readers (dashboard) never block the collector's writes,
// synchronous=FULL because the collector acknowledges to the broker only after a commit is durable.
export class SqliteFleetStore implements FleetStore {
  readonly kind = 'sqlite' as const;
  private constructor(private readonly db: DatabaseSync) {}

  static open(path: string): SqliteFleetStore {
    let db: DatabaseSync;
    try {
      db = new DatabaseSync(path);
      // auto_vacuum must be chosen before the first table exists; INCREMENTAL lets retention give pages back.
      db.exec('PRAGMA auto_vacuum = INCREMENTAL; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;');
    } catch (err) {
      throw new EdgesealError('STORAGE_ERROR', `fleet store ${path}: expected a writable SQLite database, found: ${(err as Error).message}`, { cause: err });
    }
    const store = new SqliteFleetStore(db);
    store.migrate();
    return store;
  }

  private migrate(): void {
    const applied = Number((this.db.prepare('PRAGMA user_version').get() as Row).user_version);
    if (applied > SQLITE_MIGRATIONS.length) throw new EdgesealError('STORAGE_ERROR', `fleet store: expected schema version ≤ ${SQLITE_MIGRATIONS.length}, found ${applied} (written by a newer edgeseal)`);
    SQLITE_MIGRATIONS.slice(applied).forEach((sql, i) => this.tx(() => this.db.exec(`${sql}; PRAGMA user_version = ${applied + i + 1};`)));
  }

  private tx<T>(fn: () => T): T {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const out = fn();
      this.db.exec('COMMIT');
      return out;
    } catch (err) {
      this.db.exec('ROLLBACK');
      throw err;
    }
  }

  private all(sql: string, params: SQLInputValue[] = []): Row[] {
    return this.db.prepare(sql).all(...params);
  }

  enroll(e: Enrollment, now: Date): Promise<EnrollOutcome> {
    return settle(() => {
      return this.tx(() => {
        const plan = planEnroll(this.deviceSync(e.fleet, e.deviceId), e);
        const at = now.toISOString();
        if (plan.upsertDevice) {
          this.db.prepare(`INSERT INTO devices VALUES (?, ?, ?, 'active', ?) ON CONFLICT (fleet, device_id) DO UPDATE SET hardware_id = excluded.hardware_id, status = 'active', status_at = excluded.status_at`).run(e.fleet, e.deviceId, e.hardwareId, at);
        }
        if (plan.retireCurrentKeys) this.db.prepare('UPDATE device_keys SET retired_at = ? WHERE fleet = ? AND device_id = ? AND retired_at IS NULL').run(at, e.fleet, e.deviceId);
        if (plan.insertKey) this.db.prepare('INSERT INTO device_keys VALUES (?, ?, ?, ?, ?, ?, NULL)').run(e.fleet, e.deviceId, e.keyId, e.publicKey, e.hardwareId, at);
        return plan.outcome;
      });
    });
  }

  decommission(fleet: string, deviceId: string, now: Date): Promise<boolean> {
    return settle(() => {
      const r = this.db.prepare(`UPDATE devices SET status = 'decommissioned', status_at = ? WHERE fleet = ? AND device_id = ? AND status = 'active'`).run(now.toISOString(), fleet, deviceId);
      return Number(r.changes) > 0;
    });
  }

  private deviceSync(fleet: string, deviceId: string): DeviceRecord | undefined {
    const where = 'WHERE fleet = ? AND device_id = ?';
    return devicesFromRows(this.all(`SELECT * FROM devices ${where}`, [fleet, deviceId]), this.all(`SELECT * FROM device_keys ${where} ORDER BY enrolled_at, key_id`, [fleet, deviceId]))[0];
  }

  device(fleet: string, deviceId: string): Promise<DeviceRecord | undefined> {
    return settle(() => {
      return this.deviceSync(fleet, deviceId);
    });
  }

  devices(): Promise<DeviceRecord[]> {
    return settle(() => {
      return devicesFromRows(this.all('SELECT * FROM devices ORDER BY fleet, device_id'), this.all('SELECT * FROM device_keys ORDER BY enrolled_at, key_id'));
    });
  }

  // One transaction per batch: idempotent on the row key; a differing digest is recorded as a conflict.
  insertEvents(rows: readonly StoredEvent[]): Promise<InsertResult> {
    return settle(() => {
      const insert = this.db.prepare('INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING');
      const existing = this.db.prepare('SELECT digest FROM events WHERE fleet = ? AND device_id = ? AND key_id = ? AND seq = ?');
      const conflict = this.db.prepare('INSERT INTO seq_conflicts (fleet, device_id, key_id, seq, stored_digest, new_digest, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
      return this.tx(() => {
        const result: InsertResult = { inserted: 0, duplicates: 0, conflicts: [] };
        for (const r of rows) {
          const changes = insert.run(r.fleet, r.deviceId, r.keyId, r.seq, r.deviceTime, r.receivedAt, r.type, r.verdict, r.code ?? null, r.digest, r.raw).changes;
          if (Number(changes) === 1) { result.inserted += 1; continue; }
          const stored = String((existing.get(r.fleet, r.deviceId, r.keyId, r.seq) as Row).digest);
          if (stored === r.digest) { result.duplicates += 1; continue; }
          const c: SeqConflict = { fleet: r.fleet, deviceId: r.deviceId, keyId: r.keyId, seq: r.seq, storedDigest: stored, newDigest: r.digest, receivedAt: r.receivedAt };
          conflict.run(c.fleet, c.deviceId, c.keyId, c.seq, c.storedDigest, c.newDigest, c.receivedAt);
          result.conflicts.push(c);
        }
        return result;
      });
    });
  }

  insertRejected(rows: readonly RejectedEvent[]): Promise<void> {
    return settle(() => {
      const insert = this.db.prepare('INSERT INTO rejected (received_at, reason, message, fleet, device_id, key_id, seq, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
      this.tx(() => { for (const r of rows) insert.run(r.receivedAt, r.reason, r.message, r.fleet ?? null, r.deviceId ?? null, r.keyId ?? null, r.seq ?? null, r.raw); });
    });
  }

  rejected(filter: RejectedFilter, limit: number): Promise<StoredRejected[]> {
    return settle(() => {
      const { where, params } = filterSql(filter, () => '?');
      return this.all(`SELECT * FROM rejected ${where} ORDER BY id LIMIT ?`, [...params, limit]).map(rejectedFromRow);
    });
  }

  deleteRejected(ids: readonly number[]): Promise<void> {
    return settle(() => {
      const del = this.db.prepare('DELETE FROM rejected WHERE id = ?');
      this.tx(() => { for (const id of ids) del.run(id); });
    });
  }

  rejectedCounts(): Promise<Partial<Record<ErrorCode, number>>> {
    return settle(() => {
      return Object.fromEntries(this.all('SELECT reason, COUNT(*) AS n FROM rejected GROUP BY reason').map((r) => [String(r.reason), Number(r.n)]));
    });
  }

  conflicts(): Promise<SeqConflict[]> {
    return settle(() => {
      return this.all('SELECT * FROM seq_conflicts ORDER BY id').map(conflictFromRow);
    });
  }

  events(filter: EventFilter, limit: number): Promise<StoredEvent[]> {
    return settle(() => {
      const { where, params } = filterSql(filter, () => '?');
      return this.all(`SELECT * FROM events ${where} ORDER BY fleet, device_id, key_id, seq LIMIT ?`, [...params, limit]).map(eventFromRow);
    });
  }

  countEvents(): Promise<number> {
    return settle(() => {
      return Number((this.db.prepare('SELECT COUNT(*) AS n FROM events').get() as Row).n);
    });
  }

  storedRanges(fleet: string, deviceId: string, keyId: string, limit: number): Promise<[number, number][]> {
    return settle(() => rangesFromRows(this.all(rangesSql(() => '?'), [fleet, deviceId, keyId, limit])));
  }

  // Batched deletes (each its own short transaction) then an incremental vacuum returns the pages to the OS.
  applyRetention(bound: RetentionBound, now: Date): Promise<{ events: number; rejected: number }> {
    return settle(() => {
      const out = { events: 0, rejected: 0 };
      for (const table of ['events', 'rejected'] as const) {
        // Deletes up to `total` rows chosen by `select(limit)`, DELETE_BATCH at a time.
        const purge = (select: (limit: number) => string, params: SQLInputValue[], total = Infinity): void => {
          for (let left = total; left > 0; ) {
            const limit = Math.min(DELETE_BATCH, left);
            const n = Number(this.db.prepare(`DELETE FROM ${table} WHERE rowid IN (${select(limit)})`).run(...params).changes);
            out[table] += n;
            left -= n;
            if (n < limit) return;
          }
        };
        if (bound.maxAgeSeconds !== undefined) {
          purge((l) => `SELECT rowid FROM ${table} WHERE received_at < ? LIMIT ${l}`, [new Date(now.getTime() - bound.maxAgeSeconds * 1000).toISOString()]);
        }
        if (bound.maxEvents !== undefined) {
          const excess = Number((this.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as Row).n) - bound.maxEvents;
          if (excess > 0) purge((l) => `SELECT rowid FROM ${table} ORDER BY received_at, rowid LIMIT ${l}`, [], excess);
        }
      }
      this.db.exec('PRAGMA incremental_vacuum');
      return out;
    });
  }

  // Pages on the free list (0 after retention has vacuumed); the retention test reads it.
  freePages(): number {
    return Number((this.db.prepare('PRAGMA freelist_count').get() as Row).freelist_count);
  }

  close(): Promise<void> {
    return settle(() => {
      this.db.close();
    });
  }
}
