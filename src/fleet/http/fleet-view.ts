import type { ErrorCode } from '../../core/errors.js';
import { buildInventory, sliRows, type InventoryRow, type StatusMessage } from '../inventory.js';
import { computeSli, computeSliBy, missingSeqs, type SliReport, type SliRow } from '../sli.js';
import type { DeviceRecord, FleetStore, StoredRejected } from '../store/port.js';

// What the API and /metrics read, loaded from the store in one go per request. Everything below
// `loadSnapshot` is pure over the snapshot and an explicit `now`.
export interface FleetSnapshot {
  devices: DeviceRecord[];
  rows: SliRow[];
  rejected: StoredRejected[];
  rejectedCounts: Partial<Record<ErrorCode, number>>;
  conflicts: number;
  statuses: ReadonlyMap<string, StatusMessage>;
}

const MAX_ROWS = 200_000; // the dashboard reads at most this many events; beyond it, use PostgreSQL and a time-series view

export async function loadSnapshot(store: FleetStore, statuses: ReadonlyMap<string, StatusMessage>): Promise<FleetSnapshot> {
  const devices = await store.devices();
  return {
    devices,
    rows: sliRows(await store.events({}, MAX_ROWS), devices),
    rejected: await store.rejected({}, 500),
    rejectedCounts: await store.rejectedCounts(),
    conflicts: (await store.conflicts()).length,
    statuses,
  };
}

export const inventory = (s: FleetSnapshot, now: number): InventoryRow[] => buildInventory(s.devices, s.rows, s.statuses, now);

export function sli(s: FleetSnapshot, now: number, windowSeconds: number, by?: 'fleet' | 'hardwareId'): SliReport | Record<string, SliReport> {
  const w = { from: now - windowSeconds * 1000, to: now + 1 };
  return by ? computeSliBy(s.rows, w, by) : computeSli(s.rows, w);
}

export interface Refusal {
  at: string;
  fleet: string;
  deviceId: string;
  type: string;
  code?: string;
  image?: string;
  detail?: string;
}

export function refusals(s: FleetSnapshot, limit: number): Refusal[] {
  return s.rows
    .filter((r) => r.event.verdict === 'refused')
    .sort((a, b) => b.receivedAt - a.receivedAt)
    .slice(0, limit)
    .map((r) => ({ at: new Date(r.receivedAt).toISOString(), fleet: r.fleet, deviceId: r.deviceId, type: r.event.type, code: r.event.code, image: r.event.image?.name, detail: r.event.detail }));
}

export interface TimelineEntry {
  seq: number | null;
  keyId: string | null;
  at: string;
  type: string;
  verdict: string;
  code?: string;
  signature: 'verified' | 'rejected' | 'missing' | 'dropped';
  reason?: string;
}

// One device's events in sequence order with their signature status, gaps as 'missing' entries (lost
// in transit) or 'dropped' ones (the device's signed outbox-drop events account for them), and
// rejected events that named this device.
export function timeline(s: FleetSnapshot, fleet: string, deviceId: string): TimelineEntry[] {
  const mine = s.rows.filter((r) => r.fleet === fleet && r.deviceId === deviceId).sort((a, b) => a.keyId.localeCompare(b.keyId) || a.event.seq - b.event.seq);
  const out: TimelineEntry[] = mine.map((r) => ({ seq: r.event.seq, keyId: r.keyId, at: new Date(r.receivedAt).toISOString(), type: r.event.type, verdict: r.event.verdict, code: r.event.code, signature: 'verified' }));
  for (const keyId of new Set(mine.map((r) => r.keyId))) {
    const m = missingSeqs(mine.filter((r) => r.keyId === keyId));
    const seqs = (a: number, b: number): string => (b > a ? `seqs ${a}-${b}` : `seq ${a}`);
    for (const [a, b] of m.lostInTransit) out.push({ seq: a, keyId, at: '', type: `${seqs(a, b)} not received`, verdict: '', signature: 'missing' });
    for (const [a, b] of m.deviceDropped) out.push({ seq: a, keyId, at: '', type: `${seqs(a, b)} dropped by the device`, verdict: '', signature: 'dropped' });
  }
  for (const r of s.rejected.filter((x) => x.fleet === fleet && x.deviceId === deviceId)) {
    out.push({ seq: r.seq ?? null, keyId: r.keyId ?? null, at: r.receivedAt, type: 'rejected event', verdict: '', signature: 'rejected', reason: r.reason });
  }
  return out.sort((a, b) => (a.keyId ?? '').localeCompare(b.keyId ?? '') || (a.seq ?? 0) - (b.seq ?? 0));
}

export interface Series {
  t: number[]; // bucket start, seconds
  events: number[];
  verifyRate: (number | null)[];
  blocked: number[];
  latencyP95: (number | null)[];
}

// Time series for the charts: fixed buckets of received time.
export function series(s: FleetSnapshot, now: number, windowSeconds: number, stepSeconds: number): Series {
  const out: Series = { t: [], events: [], verifyRate: [], blocked: [], latencyP95: [] };
  const start = Math.floor((now / 1000 - windowSeconds) / stepSeconds) * stepSeconds;
  for (let t = start; t <= now / 1000; t += stepSeconds) {
    const r = computeSli(s.rows, { from: t * 1000, to: (t + stepSeconds) * 1000 });
    out.t.push(t);
    out.events.push(r.fetchStorageErrors.events);
    out.verifyRate.push(r.verify.successRate);
    out.blocked.push(Object.values(r.blockedByCode).reduce((x, y) => x + y, 0));
    out.latencyP95.push(r.latencyMs.p95);
  }
  return out;
}
