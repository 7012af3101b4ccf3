import { expect } from 'chai';
import { ingestBatch, reverifyRejected } from '../../src/fleet/ingest.js';
import { keyLookupFrom } from '../../src/fleet/registry.js';
import type { FleetStore } from '../../src/fleet/store/port.js';
import { reprovisioned, simDevice } from './fleet-fixtures.js';

const T0 = new Date('2026-02-01T00:00:00.000Z');
const at = (s: number): Date => new Date(T0.getTime() + s * 1000);
const msgs = (raws: string[], s = 0): { raw: string; receivedAt: Date }[] => raws.map((raw, i) => ({ raw, receivedAt: at(s + i) }));

// One contract for every FleetStore adapter (MQTT.js abstractStoreTest style). `open` gives a fresh,
// empty store each time.
export function storeContract(open: () => Promise<FleetStore>): void {
  let store: FleetStore;
  beforeEach(async () => (store = await open()));
  afterEach(async () => store.close());

  const ingest = async (raws: string[], s = 0) => ingestBatch(store, keyLookupFrom(await store.devices()), msgs(raws, s));

  it('enrols, keeps key history on re-enrolment, decommissions and reactivates', async () => {
    const d = simDevice(1);
    const again = reprovisioned(d, 2);
    expect(await store.enroll(d.enrollment, at(0))).to.equal('enrolled');
    expect(await store.enroll(d.enrollment, at(1))).to.equal('unchanged');
    expect(await store.enroll(again.enrollment, at(2))).to.equal('rekeyed');
    const rec = await store.device('f1', d.enrollment.deviceId);
    expect(rec?.keys.map((k) => [k.keyId, k.retiredAt])).to.deep.equal([[d.signer.keyid, at(2).toISOString()], [again.signer.keyid, undefined]]);
    expect(await store.decommission('f1', d.enrollment.deviceId, at(3))).to.equal(true);
    expect(await store.decommission('f1', d.enrollment.deviceId, at(4))).to.equal(false);
    expect((await store.device('f1', d.enrollment.deviceId))?.status).to.equal('decommissioned');
    expect(await store.enroll(again.enrollment, at(5))).to.equal('reactivated');
    expect((await store.devices()).map((x) => x.status)).to.deep.equal(['active']);
  });

  it('stores verified events once: re-delivery is a duplicate, not a second row', async () => {
    const d = simDevice(1);
    await store.enroll(d.enrollment, at(0));
    const raws = [1, 2, 3].map((s) => d.envelope(s));
    expect(await ingest(raws)).to.deep.include({ inserted: 3, duplicates: 0, rejected: 0 });
    expect(await ingest([raws[1] ?? '', d.envelope(4)], 10)).to.deep.include({ inserted: 1, duplicates: 1, conflicts: [] });
    const rows = await store.events({ fleet: 'f1', deviceId: d.enrollment.deviceId }, 100);
    expect(rows.map((r) => r.seq)).to.deep.equal([1, 2, 3, 4]);
    expect(rows[1]).to.deep.include({ keyId: d.signer.keyid, type: 'update-check', verdict: 'ok', raw: raws[1], receivedAt: at(1).toISOString() });
  });

  it('raises an alarm when the same key and seq arrive with different signed bytes, keeping the first', async () => {
    const d = simDevice(1);
    await store.enroll(d.enrollment, at(0));
    await ingest([d.envelope(7)]);
    const other = d.envelope(7, { type: 'install', verdict: 'refused', code: 'DIGEST_MISMATCH' });
    const r = await ingest([other], 5);
    expect(r.inserted).to.equal(0);
    expect(r.conflicts).to.have.length(1);
    expect(await store.conflicts()).to.deep.equal(r.conflicts);
    expect((await store.events({}, 10))[0]?.type).to.equal('update-check');
  });

  it('keeps forged, unknown-device and malformed events apart, counted by reason', async () => {
    const d = simDevice(1);
    const stranger = simDevice(9);
    await store.enroll(d.enrollment, at(0));
    const forged = d.envelope(2).replace('"update-check"', '"install"');
    const r = await ingest([d.envelope(1), forged, stranger.envelope(1), '{"event":', '{"event":{},"sig":{}}']);
    expect(r).to.deep.include({ inserted: 1, rejected: 4 });
    expect(await store.rejectedCounts()).to.deep.equal({ SIGNATURE_INVALID: 1, DEVICE_UNKNOWN: 1, EVENT_INVALID: 2 });
    expect(await store.countEvents()).to.equal(1);
    const rej = await store.rejected({ reason: 'SIGNATURE_INVALID' }, 10);
    expect(rej[0]).to.deep.include({ fleet: 'f1', deviceId: d.enrollment.deviceId, seq: 2, raw: forged });
  });

  it('refuses events from a decommissioned device', async () => {
    const d = simDevice(1);
    await store.enroll(d.enrollment, at(0));
    await store.decommission('f1', d.enrollment.deviceId, at(1));
    expect(await ingest([d.envelope(1)])).to.deep.include({ inserted: 0, rejected: 1 });
    expect(await store.rejectedCounts()).to.deep.equal({ DEVICE_DECOMMISSIONED: 1 });
  });

  it('verifies again after a late enrolment: unknown-device events move, forgeries stay rejected', async () => {
    const d = simDevice(3);
    const impostor = simDevice(4);
    const forgedForD = impostor.envelope(9).replaceAll(impostor.enrollment.deviceId, d.enrollment.deviceId);
    await ingest([d.envelope(1), d.envelope(2), forgedForD]);
    expect(await store.rejectedCounts()).to.deep.equal({ DEVICE_UNKNOWN: 3 });
    await store.enroll(d.enrollment, at(100));
    expect(await reverifyRejected(store, { fleet: 'f1' })).to.deep.equal({ verified: 2, stillRejected: 1 });
    expect((await store.events({}, 10)).map((e) => [e.seq, e.receivedAt])).to.deep.equal([[1, at(0).toISOString()], [2, at(1).toISOString()]]);
    expect(await store.rejectedCounts()).to.deep.equal({ DEVICE_UNKNOWN: 1 });
  });

  it('accepts a re-provisioned device restarting its sequence under the new key, and late events of the old key', async () => {
    const d = simDevice(1);
    const again = reprovisioned(d, 2);
    await store.enroll(d.enrollment, at(0));
    await store.enroll(again.enrollment, at(1));
    expect(await ingest([again.envelope(1), d.envelope(1), again.envelope(2)])).to.deep.include({ inserted: 3, rejected: 0 });
    expect((await store.events({}, 10)).map((e) => [e.keyId, e.seq])).to.deep.equal(
      [[d.signer.keyid, 1], [again.signer.keyid, 1], [again.signer.keyid, 2]].sort((a, b) => String(a[0]).localeCompare(String(b[0])) || Number(a[1]) - Number(b[1])),
    );
  });

  it('filters events by device and received-time range', async () => {
    const [a, b] = [simDevice(1), simDevice(2)];
    await store.enroll(a.enrollment, at(0));
    await store.enroll(b.enrollment, at(0));
    await ingest([a.envelope(1), b.envelope(1), a.envelope(2), b.envelope(2)]);
    expect((await store.events({ deviceId: a.enrollment.deviceId }, 10)).map((e) => e.seq)).to.deep.equal([1, 2]);
    expect((await store.events({ since: at(1).toISOString(), until: at(3).toISOString() }, 10)).map((e) => [e.deviceId, e.seq])).to.have.deep.members([[b.enrollment.deviceId, 1], [a.enrollment.deviceId, 2]]);
  });

  it('reports the newest stored seq ranges of one device key, for the ack mark', async () => {
    const d = simDevice(1);
    await store.enroll(d.enrollment, at(0));
    await ingest([1, 2, 3, 5, 6, 9].map((s) => d.envelope(s)));
    expect(await store.storedRanges('f1', d.enrollment.deviceId, d.signer.keyid, 10)).to.deep.equal([[1, 3], [5, 6], [9, 9]]);
    expect(await store.storedRanges('f1', d.enrollment.deviceId, d.signer.keyid, 2)).to.deep.equal([[5, 6], [9, 9]]);
    expect(await store.storedRanges('f1', d.enrollment.deviceId, 'other', 10)).to.deep.equal([]);
  });

  it('holds the retention bound on age and on count', async () => {
    const d = simDevice(1);
    await store.enroll(d.enrollment, at(0));
    await ingest(Array.from({ length: 60 }, (_, i) => d.envelope(i + 1)), 0); // received at T0+0…59 s
    await ingest(['not json', 'nor this'], 0);
    const byAge = await store.applyRetention({ maxAgeSeconds: 20 }, at(59)); // keep received ≥ T0+39 s
    expect(byAge).to.deep.equal({ events: 39, rejected: 2 });
    expect((await store.events({}, 100)).every((e) => e.receivedAt >= at(39).toISOString())).to.equal(true);
    expect(await store.applyRetention({ maxEvents: 5 }, at(59))).to.deep.equal({ events: 16, rejected: 0 });
    expect((await store.events({}, 100)).map((e) => e.seq)).to.deep.equal([56, 57, 58, 59, 60]);
  });
}
