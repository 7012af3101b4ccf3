import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ingestBatch } from '../../src/fleet/ingest.js';
import { buildInventory, sliRows } from '../../src/fleet/inventory.js';
import { keyLookupFrom } from '../../src/fleet/registry.js';
import { auditCompleteness } from '../../src/fleet/sli.js';
import { SqliteFleetStore } from '../../src/fleet/store/sqlite-store.js';
import { EventLineVerifier } from '../../src/telemetry/fleet-verify.js';
import { simDevice } from './fleet-fixtures.js';

// A fleet keeps devices on schema 1 (not yet updated) next to schema 2 ones, and an exported audit trail
// keeps its schema 1 lines forever: both must verify, store and feed the inventory.
describe('fleet side reads event schema 1 next to schema 2', () => {
  const old = simDevice(21, 'lab', 'hw-old');
  const upgraded = simDevice(22, 'lab', 'hw-new');
  const v1 = [
    old.v1envelope(1, { type: 'boot-verification', verdict: 'ok', rootVersion: 2, latencyMs: 5 }),
    old.v1envelope(2, { type: 'commit', verdict: 'ok', image: { name: 'os.img', version: '1.0.0' } }),
    old.v1envelope(3, { type: 'revocation-refresh', verdict: 'ok', revocation: { version: 4, ageSeconds: 0 } }),
    old.v1envelope(5, { type: 'metrics', verdict: 'info', metrics: { installs: 1 } }),
  ];
  // a device that updated its agent mid-stream: v1 lines, then v2 ones under the same key and seq counter
  const mixed = [
    upgraded.v1envelope(1, { type: 'boot-verification', verdict: 'ok', rootVersion: 2 }),
    upgraded.envelope(2, { type: 'metrics', verdict: 'info', metrics: {}, device: { slots: { A: { target: 'os.img', version: '2.0.0' } }, active: 'A', good: 'A' } }),
  ];
  let dir: string;
  before(async () => (dir = await mkdtemp(join(tmpdir(), 'es-v1-'))));
  after(async () => rm(dir, { recursive: true, force: true }));

  it('the fixtures really are schema 1 and 2', () => {
    expect(v1.map((l) => (JSON.parse(l) as { event: { schema: number } }).event.schema)).to.deep.equal([1, 1, 1, 1]);
    expect(mixed.map((l) => (JSON.parse(l) as { event: { schema: number } }).event.schema)).to.deep.equal([1, 2]);
  });

  it('verifies offline, stores, and builds the inventory row and audit completeness from them', async () => {
    const keys = new Map([old, upgraded].map((d) => [d.signer.keyid, d.signer.publicKey]));
    const verifier = new EventLineVerifier((env) => keys.get(env.sig.keyid));
    expect([...v1, ...mixed].map((l) => verifier.add(l)?.ok)).to.deep.equal([true, true, true, true, true, true]);

    const store = SqliteFleetStore.open(join(dir, 'fleet.db'));
    try {
      for (const d of [old, upgraded]) await store.enroll(d.enrollment, new Date(0));
      const r = await ingestBatch(store, keyLookupFrom(await store.devices()), [...v1, ...mixed].map((raw, i) => ({ raw, receivedAt: new Date(1000 * (i + 1)) })));
      expect([r.inserted, r.rejected]).to.deep.equal([6, 0]);
      const devices = await store.devices();
      const rows = sliRows(await store.events({}, 100), devices);
      const inv = buildInventory(devices, rows, new Map(), 10_000);
      const a = inv.find((d) => d.deviceId === old.enrollment.deviceId);
      const b = inv.find((d) => d.deviceId === upgraded.enrollment.deviceId);
      expect(a).to.deep.include({ installed: { name: 'os.img', version: '1.0.0' }, rootVersion: 2, gaps: [[4, 4]], deviceDropped: [], slots: null, floors: null });
      expect(a?.revocation).to.deep.equal({ version: 4, ageSeconds: 7 });
      expect(b).to.deep.include({ rootVersion: 2, activeSlot: 'A', slots: { A: { target: 'os.img', version: '2.0.0' } } });
      // a schema 1 device sends no drop reports: its gap can only count as lost in transit
      expect(auditCompleteness(rows)).to.deep.equal({ received: 6, expected: 7, ratio: 6 / 7, deviceDropped: 0, lostInTransit: 1 });
    } finally {
      await store.close();
    }
  });
});
