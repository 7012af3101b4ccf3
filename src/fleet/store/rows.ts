import type { ErrorCode } from '../../core/errors.js';
import type { DeviceKey, DeviceRecord, DeviceStatus, RejectedFilter, SeqConflict, StoredEvent, StoredRejected } from './port.js';

// Row ↔ port mapping shared by both adapters (same snake_case columns; PostgreSQL returns Dates and
// bigints as strings, SQLite returns text and numbers).
type Row = Record<string, unknown>;

const iso = (v: unknown): string => (v instanceof Date ? v.toISOString() : new Date(String(v)).toISOString());
const opt = <T>(v: unknown, f: (x: unknown) => T): T | undefined => (v === null || v === undefined ? undefined : f(v));

export function eventFromRow(r: Row): StoredEvent {
  return {
    fleet: String(r.fleet), deviceId: String(r.device_id), keyId: String(r.key_id), seq: Number(r.seq),
    deviceTime: iso(r.device_time), receivedAt: iso(r.received_at), type: String(r.type), verdict: String(r.verdict),
    code: opt(r.code, String), digest: String(r.digest), raw: String(r.raw),
  };
}

export function rejectedFromRow(r: Row): StoredRejected {
  return {
    id: Number(r.id), receivedAt: iso(r.received_at), reason: String(r.reason) as ErrorCode, message: String(r.message),
    fleet: opt(r.fleet, String), deviceId: opt(r.device_id, String), keyId: opt(r.key_id, String), seq: opt(r.seq, Number), raw: String(r.raw),
  };
}

export function conflictFromRow(r: Row): SeqConflict {
  return {
    fleet: String(r.fleet), deviceId: String(r.device_id), keyId: String(r.key_id), seq: Number(r.seq),
    storedDigest: String(r.stored_digest), newDigest: String(r.new_digest), receivedAt: iso(r.received_at),
  };
}

// Groups device rows and their key rows (both ordered) into records.
export function devicesFromRows(devices: Row[], keys: Row[]): DeviceRecord[] {
  const out = new Map<string, DeviceRecord>();
  for (const d of devices) {
    out.set(`${String(d.fleet)}/${String(d.device_id)}`, { fleet: String(d.fleet), deviceId: String(d.device_id), hardwareId: String(d.hardware_id), status: String(d.status) as DeviceStatus, keys: [] });
  }
  for (const k of keys) {
    const key: DeviceKey = {
      fleet: String(k.fleet), deviceId: String(k.device_id), hardwareId: String(k.hardware_id), publicKey: String(k.public_key), keyId: String(k.key_id),
      enrolledAt: iso(k.enrolled_at), retiredAt: opt(k.retired_at, iso),
    };
    out.get(`${key.fleet}/${key.deviceId}`)?.keys.push(key);
  }
  return [...out.values()];
}

// WHERE clause for an EventFilter; `p(i)` renders the i-th placeholder (? or $i).
export function filterSql(f: RejectedFilter, p: (i: number) => string): { where: string; params: (string | number)[] } {
  const parts: string[] = [];
  const params: (string | number)[] = [];
  const add = (col: string, op: string, v: string | number | undefined): void => {
    if (v === undefined) return;
    params.push(v);
    parts.push(`${col} ${op} ${p(params.length)}`);
  };
  add('fleet', '=', f.fleet);
  add('device_id', '=', f.deviceId);
  add('received_at', '>=', f.since);
  add('received_at', '<', f.until);
  add('reason', '=', f.reason);
  add('id', '>', f.afterId);
  return { where: parts.length ? `WHERE ${parts.join(' AND ')}` : '', params };
}

// Gaps-and-islands: consecutive seqs share seq - row_number(); each group is one stored range.
// `table` holds one row per stored event key (PostgreSQL reads its unpartitioned event_keys).
export function rangesSql(p: (i: number) => string, table = 'events'): string {
  return `SELECT MIN(seq) AS a, MAX(seq) AS b FROM (SELECT seq, seq - ROW_NUMBER() OVER (ORDER BY seq) AS g FROM ${table}
    WHERE fleet = ${p(1)} AND device_id = ${p(2)} AND key_id = ${p(3)}) AS s GROUP BY g ORDER BY a DESC LIMIT ${p(4)}`;
}

export const rangesFromRows = (rows: Row[]): [number, number][] => rows.map((r): [number, number] => [Number(r.a), Number(r.b)]).reverse();
