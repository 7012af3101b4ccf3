import { expect } from 'chai';
import type { Worker } from 'node:worker_threads';
import { VerifyPool, verifyWorkerCount } from '../../src/fleet/collector/verify-pool.js';
import { keyLookupFrom } from '../../src/fleet/registry.js';
import type { DeviceRecord } from '../../src/fleet/store/port.js';
import { classifyEnvelope } from '../../src/fleet/verify-event.js';
import { simDevice, type SimDevice } from './fleet-fixtures.js';

const record = (d: SimDevice): DeviceRecord => ({ ...d.enrollment, status: 'active', keys: [{ ...d.enrollment, enrolledAt: '2026-01-01T00:00:00.000Z' }] });
const at = Date.UTC(2026, 1, 1);

describe('VerifyPool (event signatures verified on worker threads)', () => {
  const a = simDevice(1);
  const b = simDevice(2);
  let pool: VerifyPool;
  afterEach(async () => pool.close());

  it('classifies every event exactly as classifyEnvelope does on the calling thread, each result to its own event', async () => {
    pool = new VerifyPool(2, [record(a)]);
    const forged = JSON.parse(a.envelope(7)) as { sig: { value: string } };
    forged.sig.value = `${forged.sig.value.slice(0, -2)}00`;
    // More events than one worker message holds, spread over both workers; they come back in order.
    const raws = [...Array.from({ length: 40 }, (_, i) => a.envelope(i + 1)), JSON.stringify(forged), b.envelope(1), '{not json'];
    const topic = { fleet: 'f1', deviceId: a.enrollment.deviceId };
    const got = await Promise.all(raws.map((raw) => pool.classify({ raw, receivedAt: at, topic: raw === raws[41] ? { fleet: 'f1', deviceId: b.enrollment.deviceId } : topic })));
    const lookup = keyLookupFrom([record(a)]);
    const want = raws.map((raw) => classifyEnvelope(raw, new Date(at), lookup, raw === raws[41] ? { fleet: 'f1', deviceId: b.enrollment.deviceId } : topic));
    expect(got).to.deep.equal(want);
    expect(got.map((c) => (c.ok ? c.row.seq : c.rejected.reason)).slice(38)).to.deep.equal([39, 40, 'SIGNATURE_INVALID', 'DEVICE_UNKNOWN', 'EVENT_INVALID']);
  });

  it('verifies events sent after a registry update against the new registry', async () => {
    pool = new VerifyPool(1, [record(a)]);
    const topic = { fleet: 'f1', deviceId: b.enrollment.deviceId };
    const before = await pool.classify({ raw: b.envelope(1), receivedAt: at, topic });
    pool.setRegistry([record(a), record(b)]);
    const after = await pool.classify({ raw: b.envelope(1), receivedAt: at, topic });
    expect(before.ok ? 'stored' : before.rejected.reason).to.equal('DEVICE_UNKNOWN');
    expect(after.ok ? after.row.deviceId : after.rejected.reason).to.equal(b.enrollment.deviceId);
  });

  it('fails the events a crashed worker held (so they get no PUBACK) and replaces the worker', async () => {
    pool = new VerifyPool(1, [record(a)]);
    const topic = { fleet: 'f1', deviceId: a.enrollment.deviceId };
    const held = pool.classify({ raw: a.envelope(1), receivedAt: at, topic }).then(() => 'classified', (e: Error) => e.message);
    // The pool's only worker ends while it holds that event (its batch was posted in the last macrotask).
    await new Promise((r) => setImmediate(r));
    await (pool as unknown as { workers: Worker[] }).workers[0]?.terminate();
    expect(await held).to.match(/verify worker: expected results, found an exit/);
    const again = await pool.classify({ raw: a.envelope(1), receivedAt: at, topic });
    expect(again.ok ? again.row.seq : again.rejected.reason).to.equal(1);
  });

  it('refuses work once closed, and leaves one core to the collector', async () => {
    pool = new VerifyPool(1, []);
    await pool.close();
    const err = await pool.classify({ raw: a.envelope(1), receivedAt: at, topic: { fleet: 'f1', deviceId: a.enrollment.deviceId } }).then(() => undefined, (e: Error) => e);
    expect(err?.message).to.match(/expected it open, found it closed/);
    expect([1, 2, 8].map((n) => verifyWorkerCount(n))).to.deep.equal([1, 1, 7]);
  });
});
