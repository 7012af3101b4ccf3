import type { TelemetryEvent } from '../telemetry/event.js';
import { BLOCKING_TYPES, percentile, VERIFY_TYPES } from '../telemetry/metrics.js';
import { mergeRanges, rangesOf, rangesSize, subtractRanges, type SeqRange } from '../telemetry/seq-ranges.js';

// The fleet SLIs, computed from stored verified events only. Pure: rows and an explicit window in,
// numbers out. Windows are on the collector's *received* time, not the device's: received time comes
// from one trusted clock, is monotonic per collector, and a window that has closed never changes
// (device clocks may be unset or behind the time floor, and a device's signed `time` can only be
// checked against itself). The cost: events held back by an outage count in the window they arrive in.

export interface SliRow {
  fleet: string;
  hardwareId: string;
  deviceId: string;
  keyId: string;
  receivedAt: number; // ms since epoch
  event: TelemetryEvent;
}

export interface SliWindow {
  from: number; // inclusive, ms
  to: number; // exclusive, ms
}

export interface SliReport {
  verify: { attempts: number; successes: number; successRate: number | null };
  latencyMs: { count: number; p50: number | null; p95: number | null; p99: number | null };
  blockedByCode: Record<string, number>;
  signedDeploy: { installs: number; signed: number; rate: number | null };
  fetchStorageErrors: { events: number; errors: number; rate: number | null };
  auditCompleteness: AuditCompleteness;
}

// received ÷ expected; of the missing seqs, deviceDropped were dropped by the device's own drop policy
// (it says so in signed outbox-drop events, schema 2) and lostInTransit are unaccounted for.
export interface AuditCompleteness {
  received: number;
  expected: number;
  ratio: number | null;
  deviceDropped: number;
  lostInTransit: number;
}

// fetch errors include the update transport's TLS and proxy failures (once all FETCH_FAILED)
export const ERROR_CODES_COUNTED: ReadonlySet<string> = new Set(['FETCH_FAILED', 'TLS_UNTRUSTED', 'TLS_CLIENT_REJECTED', 'PROXY_FAILED', 'STORAGE_ERROR']);
const ratio = (n: number, d: number): number | null => (d === 0 ? null : n / d);

// Missing sequence ranges of one device key between 1 and the highest seq seen (seqs start at 1 per key).
export function sequenceGaps(seqs: Iterable<number>): [number, number][] {
  const got = rangesOf(seqs);
  const highest = got.at(-1)?.[1] ?? 0;
  return highest ? subtractRanges([[1, highest]], got) : [];
}

// One device key's missing seqs, split by what its signed outbox-drop events account for.
export function missingSeqs(rows: readonly SliRow[]): { received: number; expected: number; deviceDropped: SeqRange[]; lostInTransit: SeqRange[] } {
  const seqs = new Set(rows.map((r) => r.event.seq));
  const gaps = sequenceGaps(seqs);
  const reported = mergeRanges(rows.flatMap((r) => r.event.dropped ?? []));
  const lostInTransit = subtractRanges(gaps, reported);
  return { received: seqs.size, expected: seqs.size ? Math.max(...seqs) : 0, deviceDropped: subtractRanges(gaps, lostInTransit), lostInTransit };
}

// Audit completeness over all rows given (not windowed: a gap is a gap whenever the rest arrived):
// received distinct seqs ÷ highest seq, summed over device keys.
export function auditCompleteness(rows: readonly SliRow[]): AuditCompleteness {
  const byKey = new Map<string, SliRow[]>();
  for (const r of rows) {
    const k = `${r.fleet}/${r.deviceId}/${r.keyId}`;
    const list = byKey.get(k);
    if (list) list.push(r);
    else byKey.set(k, [r]);
  }
  const out = { received: 0, expected: 0, deviceDropped: 0, lostInTransit: 0 };
  for (const key of byKey.values()) {
    const m = missingSeqs(key);
    out.received += m.received;
    out.expected += m.expected;
    out.deviceDropped += rangesSize(m.deviceDropped);
    out.lostInTransit += rangesSize(m.lostInTransit);
  }
  return { received: out.received, expected: out.expected, ratio: ratio(out.received, out.expected), deviceDropped: out.deviceDropped, lostInTransit: out.lostInTransit };
}

export function computeSli(rows: readonly SliRow[], w: SliWindow): SliReport {
  const inWindow = rows.filter((r) => r.receivedAt >= w.from && r.receivedAt < w.to);
  let attempts = 0;
  let successes = 0;
  const latencies: number[] = [];
  const blockedByCode: Record<string, number> = {};
  let installs = 0;
  let signed = 0;
  let errors = 0;
  for (const { event: e } of inWindow) {
    if (VERIFY_TYPES.has(e.type) && e.verdict !== 'info') {
      attempts += 1;
      if (e.verdict === 'ok') successes += 1;
      if (e.latencyMs !== undefined) latencies.push(e.latencyMs);
    }
    if (BLOCKING_TYPES.has(e.type) && e.verdict === 'refused') blockedByCode[e.code ?? 'UNKNOWN'] = (blockedByCode[e.code ?? 'UNKNOWN'] ?? 0) + 1;
    if (e.type === 'install' && e.verdict === 'ok') {
      installs += 1;
      if (e.keyids?.length) signed += 1;
    }
    if (e.code !== undefined && ERROR_CODES_COUNTED.has(e.code)) errors += 1;
  }
  latencies.sort((a, b) => a - b);
  return {
    verify: { attempts, successes, successRate: ratio(successes, attempts) },
    latencyMs: { count: latencies.length, p50: percentile(latencies, 50), p95: percentile(latencies, 95), p99: percentile(latencies, 99) },
    blockedByCode,
    signedDeploy: { installs, signed, rate: ratio(signed, installs) },
    fetchStorageErrors: { events: inWindow.length, errors, rate: ratio(errors, inWindow.length) },
    auditCompleteness: auditCompleteness(rows),
  };
}

// The same report per fleet or per hardware id.
export function computeSliBy(rows: readonly SliRow[], w: SliWindow, by: 'fleet' | 'hardwareId'): Record<string, SliReport> {
  const groups = new Map<string, SliRow[]>();
  for (const r of rows) groups.set(r[by], [...(groups.get(r[by]) ?? []), r]);
  return Object.fromEntries([...groups].sort(([a], [b]) => a.localeCompare(b)).map(([k, g]) => [k, computeSli(g, w)]));
}

export interface RotationReport {
  version: number;
  firstSeenAt: number | null; // received time of the first report of root ≥ version
  devices: number; // active devices considered
  onVersion: number;
  share: number | null;
  timeToAllMs: number | null; // first report → the last active device's first report; null until all
}

// Key-rotation propagation: from the first device reporting root version N to the share of active
// devices (those with any event at or after `activeSince`) that reported ≥ N, and the time to 100 %.
export function rotationPropagation(rows: readonly SliRow[], version: number, activeSince: number): RotationReport {
  const active = new Set(rows.filter((r) => r.receivedAt >= activeSince).map((r) => `${r.fleet}/${r.deviceId}`));
  const firstOnVersion = new Map<string, number>();
  for (const r of rows) {
    const d = `${r.fleet}/${r.deviceId}`;
    if (!active.has(d) || (r.event.rootVersion ?? 0) < version) continue;
    firstOnVersion.set(d, Math.min(firstOnVersion.get(d) ?? Infinity, r.receivedAt));
  }
  const times = [...firstOnVersion.values()];
  const firstSeenAt = times.length ? Math.min(...times) : null;
  const all = active.size > 0 && firstOnVersion.size === active.size;
  return {
    version,
    firstSeenAt,
    devices: active.size,
    onVersion: firstOnVersion.size,
    share: ratio(firstOnVersion.size, active.size),
    timeToAllMs: all && firstSeenAt !== null ? Math.max(...times) - firstSeenAt : null,
  };
}
