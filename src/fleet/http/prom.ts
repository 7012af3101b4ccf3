import { importOptional } from '../optional-import.js';
import { auditCompleteness, ERROR_CODES_COUNTED, rotationPropagation, type SliRow } from '../sli.js';
import { BLOCKING_TYPES, VERIFY_TYPES } from '../../telemetry/metrics.js';
import type { RolloutsReport } from '../rollouts/monitor.js';
import { rolloutMetrics } from '../rollouts/metrics.js';
import { inventory, type FleetSnapshot } from './fleet-view.js';

// /metrics. Values are read from the shared database at scrape time, not counted in the process:
// two collectors on one database export the same series, so aggregate across instances with `max`
// (never `sum`), or scrape one. Counters fall when retention removes events; Prometheus treats that
// as a counter reset.
const LATENCY_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]; // Prometheus base unit: seconds
const ACTIVE_WINDOW_MS = 24 * 3600_000;

type Labels = Record<string, string>;

export async function renderMetrics(s: FleetSnapshot, now: number, rollouts?: RolloutsReport): Promise<{ contentType: string; body: string }> {
  const prom = await importOptional('prom-client', '/metrics', () => import('prom-client'));
  const registry = new prom.Registry();
  const counter = (name: string, help: string, labelNames: string[]) => new prom.Counter({ name, help, labelNames, registers: [registry] });
  const gauge = (name: string, help: string, labelNames: string[]) => new prom.Gauge({ name, help, labelNames, registers: [registry] });
  const verifyAttempts = counter('edgeseal_fleet_verify_attempts_total', 'Verifications reported (boot and update decisions).', ['fleet', 'hardware_id']);
  const verifySuccesses = counter('edgeseal_fleet_verify_successes_total', 'Verifications that passed.', ['fleet', 'hardware_id']);
  const latency = new prom.Histogram({ name: 'edgeseal_fleet_verify_latency_seconds', help: 'Verification latency reported by devices.', labelNames: ['fleet', 'hardware_id'], buckets: LATENCY_BUCKETS_S, registers: [registry] });
  const blocked = counter('edgeseal_fleet_blocked_installs_total', 'Installs refused, by error code.', ['fleet', 'hardware_id', 'code']);
  const installs = counter('edgeseal_fleet_installs_total', 'Images installed.', ['fleet', 'hardware_id']);
  const signed = counter('edgeseal_fleet_signed_installs_total', 'Images installed whose verification named signing keys.', ['fleet', 'hardware_id']);
  const errors = counter('edgeseal_fleet_fetch_storage_errors_total', 'Events reporting FETCH_FAILED (or a TLS or proxy failure of the update transport) or STORAGE_ERROR.', ['fleet', 'hardware_id']);
  const rollbacks = counter('edgeseal_fleet_rollbacks_total', 'Rollbacks to the other slot.', ['fleet', 'hardware_id']);
  const events = counter('edgeseal_fleet_events_total', 'Verified events stored.', ['fleet', 'hardware_id']);
  const rejected = counter('edgeseal_fleet_rejected_events_total', 'Events rejected before storage, by reason.', ['reason']);
  const conflicts = counter('edgeseal_fleet_seq_conflicts_total', 'Same device key and seq seen with different signed bytes.', []);
  const received = gauge('edgeseal_fleet_audit_received_events', 'Distinct sequence numbers stored.', ['fleet']);
  const expected = gauge('edgeseal_fleet_audit_expected_events', 'Sequence numbers expected (highest seq per device key).', ['fleet']);
  const dropped = gauge('edgeseal_fleet_audit_device_dropped_events', 'Missing sequence numbers the devices reported dropping by their outbox drop policy.', ['fleet']);
  const lost = gauge('edgeseal_fleet_audit_lost_in_transit_events', 'Missing sequence numbers no device drop report accounts for.', ['fleet']);
  const devices = gauge('edgeseal_fleet_devices', 'Enrolled devices by last retained status (UNAUTHENTICATED: the status message is not signed).', ['fleet', 'status']);
  const rootShare = gauge('edgeseal_fleet_root_latest_share', 'Share of devices active in the last 24 h that report the newest root version seen.', ['fleet']);
  const revAge = gauge('edgeseal_fleet_revocation_age_max_seconds', 'Oldest revocation list age among devices, extrapolated to now.', ['fleet']);

  const hw = (r: SliRow): Labels => ({ fleet: r.fleet, hardware_id: r.hardwareId });
  for (const r of s.rows) {
    const e = r.event;
    events.inc(hw(r));
    if (VERIFY_TYPES.has(e.type) && e.verdict !== 'info') {
      verifyAttempts.inc(hw(r));
      if (e.verdict === 'ok') verifySuccesses.inc(hw(r));
      if (e.latencyMs !== undefined) latency.observe(hw(r), e.latencyMs / 1000);
    }
    if (BLOCKING_TYPES.has(e.type) && e.verdict === 'refused') blocked.inc({ ...hw(r), code: e.code ?? 'UNKNOWN' });
    if (e.type === 'install' && e.verdict === 'ok') {
      installs.inc(hw(r));
      if (e.keyids?.length) signed.inc(hw(r));
    }
    if (e.code !== undefined && ERROR_CODES_COUNTED.has(e.code)) errors.inc(hw(r));
    if (e.type === 'rollback') rollbacks.inc(hw(r));
  }
  for (const [reason, n] of Object.entries(s.rejectedCounts)) rejected.inc({ reason }, n);
  conflicts.inc(s.conflicts);
  const inv = inventory(s, now);
  for (const fleet of new Set(s.devices.map((d) => d.fleet))) {
    const rows = s.rows.filter((r) => r.fleet === fleet);
    const audit = auditCompleteness(rows);
    received.set({ fleet }, audit.received);
    expected.set({ fleet }, audit.expected);
    dropped.set({ fleet }, audit.deviceDropped);
    lost.set({ fleet }, audit.lostInTransit);
    for (const d of s.devices.filter((x) => x.fleet === fleet)) devices.inc({ fleet, status: s.statuses.get(`${fleet}/${d.deviceId}`)?.state ?? 'unknown' });
    const newest = Math.max(0, ...rows.map((r) => r.event.rootVersion ?? 0));
    if (newest > 0) rootShare.set({ fleet }, rotationPropagation(rows, newest, now - ACTIVE_WINDOW_MS).share ?? 0);
    const ages = inv.filter((d) => d.fleet === fleet && d.revocation).map((d) => d.revocation?.ageSeconds ?? 0);
    if (ages.length) revAge.set({ fleet }, Math.max(...ages));
  }
  if (rollouts?.configured) rolloutMetrics(prom, registry, rollouts);
  return { contentType: registry.contentType, body: await registry.metrics() };
}
