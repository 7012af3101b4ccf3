import type { ImageRef } from '../telemetry/event.js';
import type { DeviceFacts } from '../telemetry/event-v2.js';
import type { DeviceRecord, StoredEvent } from './store/port.js';
import { missingSeqs, type SliRow } from './sli.js';

// One device as the operator sees it. Every fact but `online` comes from signed, verified events;
// `online` comes from the retained status / last-will message, which the device does not sign, so it
// is labelled unauthenticated.
export interface InventoryRow {
  fleet: string;
  deviceId: string;
  hardwareId: string;
  status: DeviceRecord['status'];
  keyId: string | null; // current report key
  lastSeenAt: string | null; // received time of the newest verified event
  installed: ImageRef | null; // newest committed (else installed) image
  lastBoot: { verdict: string; code?: string } | null;
  rootVersion: number | null;
  revocation: { version: number; ageSeconds: number } | null; // age extrapolated to `now`
  lastRefusal: { type: string; code?: string; image?: string; at: string } | null;
  gaps: [number, number][]; // missing seqs of the current key not accounted for: lost in transit
  deviceDropped: [number, number][]; // missing seqs the device reported dropping by its drop policy
  slots: DeviceFacts['slots'] | null; // schema 2 metrics events: image per slot, null for a v1-only device
  activeSlot: string | null;
  goodSlot: string | null;
  floors: DeviceFacts['floors'] | null; // TPM anti-rollback floors as the device last reported them
  factsAt: string | null; // received time of the metrics event the slot facts come from
  online: { state: string; at: string; authenticated: false } | null;
}

export interface StatusMessage {
  state: string;
  at: number; // ms, when the collector saw it
}

// Builds SLI rows from stored events (the raw envelope is parsed again: the row has only the index columns).
export function sliRows(events: readonly StoredEvent[], devices: readonly DeviceRecord[]): SliRow[] {
  const hw = new Map(devices.map((d) => [`${d.fleet}/${d.deviceId}`, d.hardwareId]));
  return events.map((e) => ({
    fleet: e.fleet, deviceId: e.deviceId, keyId: e.keyId, hardwareId: hw.get(`${e.fleet}/${e.deviceId}`) ?? 'unknown',
    receivedAt: Date.parse(e.receivedAt), event: (JSON.parse(e.raw) as { event: SliRow['event'] }).event,
  }));
}

// Pure: the registry, the device's verified events and the last status message seen per device.
export function buildInventory(devices: readonly DeviceRecord[], rows: readonly SliRow[], statuses: ReadonlyMap<string, StatusMessage>, now: number): InventoryRow[] {
  return devices.map((d) => {
    const key = d.keys.find((k) => k.retiredAt === undefined)?.keyId ?? null;
    const mine = rows.filter((r) => r.fleet === d.fleet && r.deviceId === d.deviceId).sort((a, b) => a.receivedAt - b.receivedAt || a.event.seq - b.event.seq);
    const last = <T>(pick: (r: SliRow) => T | undefined): { value: T; row: SliRow } | undefined => {
      for (let i = mine.length - 1; i >= 0; i--) {
        const row = mine[i];
        const value = pick(row);
        if (value !== undefined) return { value, row };
      }
      return undefined;
    };
    const committed = last((r) => (r.event.type === 'commit' && r.event.verdict === 'ok' ? r.event.image : undefined)) ?? last((r) => (r.event.type === 'install' && r.event.verdict === 'ok' ? r.event.image : undefined));
    const boot = last((r) => (r.event.type === 'boot-verification' ? r.event : undefined));
    const rev = last((r) => r.event.revocation);
    const refusal = last((r) => (r.event.verdict === 'refused' ? r.event : undefined));
    const status = statuses.get(`${d.fleet}/${d.deviceId}`);
    const facts = last((r) => r.event.device);
    const missing = missingSeqs(mine.filter((r) => r.keyId === key));
    return {
      fleet: d.fleet, deviceId: d.deviceId, hardwareId: d.hardwareId, status: d.status, keyId: key,
      lastSeenAt: mine.length ? new Date((mine.at(-1) as SliRow).receivedAt).toISOString() : null,
      installed: committed?.value ?? null,
      lastBoot: boot ? { verdict: boot.value.verdict, ...(boot.value.code ? { code: boot.value.code } : {}) } : null,
      rootVersion: last((r) => r.event.rootVersion)?.value ?? null,
      revocation: rev ? { version: rev.value.version, ageSeconds: rev.value.ageSeconds + Math.max(0, Math.floor((now - rev.row.receivedAt) / 1000)) } : null,
      lastRefusal: refusal ? { type: refusal.value.type, code: refusal.value.code, image: refusal.value.image?.name, at: new Date(refusal.row.receivedAt).toISOString() } : null,
      gaps: missing.lostInTransit,
      deviceDropped: missing.deviceDropped,
      slots: facts?.value.slots ?? null,
      activeSlot: facts?.value.active ?? null,
      goodSlot: facts?.value.good ?? null,
      floors: facts?.value.floors ?? null,
      factsAt: facts ? new Date(facts.row.receivedAt).toISOString() : null,
      online: status ? { state: status.state, at: new Date(status.at).toISOString(), authenticated: false } : null,
    };
  });
}
