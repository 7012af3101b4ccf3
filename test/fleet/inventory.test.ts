import { expect } from 'chai';
import { buildInventory, sliRows } from '../../src/fleet/inventory.js';
import { classifyEnvelope } from '../../src/fleet/verify-event.js';
import { keyLookupFrom } from '../../src/fleet/registry.js';
import type { DeviceRecord, StoredEvent } from '../../src/fleet/store/port.js';
import { simDevice } from './fleet-fixtures.js';

describe('fleet inventory (pure, from signed events)', () => {
  const d = simDevice(1);
  const device: DeviceRecord = { fleet: 'f1', deviceId: d.enrollment.deviceId, hardwareId: 'hw-a', status: 'active', keys: [{ ...d.enrollment, enrolledAt: '2026-01-01T00:00:00.000Z' }] };
  const lookup = keyLookupFrom([device]);
  const stored = (seq: number, atSec: number, input: Parameters<typeof d.envelope>[1]): StoredEvent => {
    const c = classifyEnvelope(d.envelope(seq, input), new Date(atSec * 1000), lookup);
    if (!c.ok) throw new Error(c.rejected.message);
    return c.row;
  };
  const events = [
    stored(1, 10, { type: 'boot-verification', verdict: 'ok', rootVersion: 3 }),
    stored(2, 20, { type: 'install', verdict: 'ok', image: { name: 'os.img', version: '2.0.0' } }),
    stored(3, 30, { type: 'commit', verdict: 'ok', image: { name: 'os.img', version: '2.0.0' } }),
    stored(5, 40, { type: 'update-decision', verdict: 'refused', code: 'DIGEST_MISMATCH', image: { name: 'os.img', version: '2.0.1' } }),
    stored(6, 50, { type: 'revocation-refresh', verdict: 'ok', revocation: { version: 7, ageSeconds: 100 } }),
  ];

  it('derives the row from verified events, extrapolates the revocation age, and lists the gap', () => {
    const [row] = buildInventory([device], sliRows(events, [device]), new Map([[`f1/${d.enrollment.deviceId}`, { state: 'online', at: 45_000 }]]), 110_000);
    expect(row).to.deep.equal({
      fleet: 'f1', deviceId: d.enrollment.deviceId, hardwareId: 'hw-a', status: 'active', keyId: d.signer.keyid,
      lastSeenAt: new Date(50_000).toISOString(),
      installed: { name: 'os.img', version: '2.0.0' },
      lastBoot: { verdict: 'ok' },
      rootVersion: 3,
      revocation: { version: 7, ageSeconds: 160 },
      lastRefusal: { type: 'update-decision', code: 'DIGEST_MISMATCH', image: 'os.img', at: new Date(40_000).toISOString() },
      gaps: [[4, 4]],
      deviceDropped: [],
      slots: null, activeSlot: null, goodSlot: null, floors: null, factsAt: null,
      online: { state: 'online', at: new Date(45_000).toISOString(), authenticated: false },
    });
  });

  it('takes slots, active/good slot and TPM floors from the newest schema 2 metrics event; a reported drop is not a gap', () => {
    const facts = (version: string) => ({
      slots: { A: { target: 'os.img', version: '2.0.0', sha256: 'a'.repeat(64) }, B: { target: 'os.img', version } },
      active: 'A' as const, good: 'A' as const, floors: { rootVersion: 3, securityVersion: 2, revocationVersion: 7, targetsVersion: 4 },
    });
    const more = [
      ...events,
      stored(7, 60, { type: 'metrics', verdict: 'info', metrics: {}, device: facts('1.0.0') }),
      stored(8, 70, { type: 'outbox-drop', verdict: 'info', dropped: [[4, 4]] }),
      stored(9, 80, { type: 'metrics', verdict: 'info', metrics: {}, rootVersion: 4, device: facts('2.0.1') }),
      stored(10, 90, { type: 'update-check', verdict: 'ok' }),
    ];
    const [row] = buildInventory([device], sliRows(more, [device]), new Map(), 90_000);
    expect(row).to.deep.include({ rootVersion: 4, activeSlot: 'A', goodSlot: 'A', gaps: [], deviceDropped: [[4, 4]], factsAt: new Date(80_000).toISOString() });
    expect(row?.slots).to.deep.equal(facts('2.0.1').slots);
    expect(row?.floors).to.deep.equal({ rootVersion: 3, securityVersion: 2, revocationVersion: 7, targetsVersion: 4 });
  });

  it('shows a device with no events as never seen', () => {
    const [row] = buildInventory([device], [], new Map(), 0);
    expect(row).to.deep.include({ lastSeenAt: null, installed: null, rootVersion: null, online: null, gaps: [] });
  });
});
