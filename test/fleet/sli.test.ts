import { expect } from 'chai';
import { auditCompleteness, computeSli, computeSliBy, missingSeqs, rotationPropagation, sequenceGaps, type SliRow } from '../../src/fleet/sli.js';
import { buildEvent, type EventInput } from '../../src/telemetry/event.js';

const row = (device: 'A' | 'B', seq: number, atSec: number, input: EventInput): SliRow => ({
  fleet: 'f1',
  hardwareId: device === 'A' ? 'hw-a' : 'hw-b',
  deviceId: device,
  keyId: `key-${device}`,
  receivedAt: atSec * 1000,
  event: buildEvent(input, { deviceId: device, fleet: 'f1', seq, now: new Date(0) }), // device time deliberately wrong
});

const rows: SliRow[] = [
  row('A', 1, 0, { type: 'boot-verification', verdict: 'ok', latencyMs: 10 }),
  row('A', 2, 10, { type: 'boot-verification', verdict: 'ok', latencyMs: 20 }),
  row('A', 3, 20, { type: 'update-decision', verdict: 'refused', code: 'KEY_REVOKED', latencyMs: 30, image: { name: 'os.img' } }),
  row('A', 4, 30, { type: 'install', verdict: 'ok', keyids: ['aa'] }),
  row('A', 5, 40, { type: 'install', verdict: 'ok' }),
  row('A', 7, 50, { type: 'update-check', verdict: 'error', code: 'FETCH_FAILED' }),
  row('B', 1, 5, { type: 'boot-verification', verdict: 'error', code: 'STORAGE_ERROR', latencyMs: 40 }),
  row('B', 2, 15, { type: 'install', verdict: 'refused', code: 'DIGEST_MISMATCH' }), // blocked only with its update-decision
  row('B', 3, 100, { type: 'boot-verification', verdict: 'ok', latencyMs: 50, rootVersion: 2 }),
];
const W = { from: 0, to: 60_000 };

describe('fleet SLIs (pure, exact numbers)', () => {
  it('computes every SLI over a received-time window', () => {
    expect(computeSli(rows, W)).to.deep.equal({
      verify: { attempts: 4, successes: 2, successRate: 0.5 },
      latencyMs: { count: 4, p50: 20, p95: 40, p99: 40 }, // nearest rank over [10, 20, 30, 40]
      blockedByCode: { KEY_REVOKED: 1 }, // B's install refusal alone is not counted: its update-decision is
      signedDeploy: { installs: 2, signed: 1, rate: 0.5 },
      fetchStorageErrors: { events: 8, errors: 2, rate: 0.25 },
      auditCompleteness: { received: 9, expected: 10, ratio: 0.9, deviceDropped: 0, lostInTransit: 1 }, // A lacks seq 6
    });
  });

  it('counts the update transport\'s TLS and proxy failures as fetch errors, as FETCH_FAILED was before them', () => {
    const codes = ['TLS_UNTRUSTED', 'TLS_CLIENT_REJECTED', 'PROXY_FAILED'] as const;
    const failed = codes.map((code, i) => row('A', i + 1, i, { type: 'update-check', verdict: 'error', code }));
    expect(computeSli(failed, W).fetchStorageErrors).to.deep.equal({ events: 3, errors: 3, rate: 1 });
  });

  it('windows on received time: the same events outside the window do not count, whatever their device time', () => {
    const late = computeSli(rows, { from: 60_000, to: 120_000 });
    expect(late.verify).to.deep.equal({ attempts: 1, successes: 1, successRate: 1 });
    expect(late.latencyMs).to.deep.equal({ count: 1, p50: 50, p95: 50, p99: 50 });
    expect(computeSli([], W).verify.successRate).to.equal(null);
  });

  it('splits by hardware id', () => {
    const by = computeSliBy(rows, W, 'hardwareId');
    expect(Object.keys(by)).to.deep.equal(['hw-a', 'hw-b']);
    expect(by['hw-a']?.verify).to.deep.equal({ attempts: 3, successes: 2, successRate: 2 / 3 });
    expect(by['hw-b']?.blockedByCode).to.deep.equal({});
    expect(by['hw-b']?.auditCompleteness).to.deep.equal({ received: 3, expected: 3, ratio: 1, deviceDropped: 0, lostInTransit: 0 });
  });

  it('finds sequence gaps and audit completeness per device key', () => {
    expect(sequenceGaps([1, 2, 3, 4, 5, 7])).to.deep.equal([[6, 6]]);
    expect(sequenceGaps([3, 9, 9, 4])).to.deep.equal([[1, 2], [5, 8]]);
    expect(auditCompleteness(rows.filter((r) => r.deviceId === 'A'))).to.deep.equal({ received: 6, expected: 7, ratio: 6 / 7, deviceDropped: 0, lostInTransit: 1 });
  });

  it('tells seqs the device reported dropping (signed outbox-drop, schema 2) apart from seqs lost in transit', () => {
    // A: 1-5 and 7 received, 6 missing; its report at seq 10 names 6 and 8 dropped; 9 is nowhere
    const withDrops = [...rows, row('A', 10, 55, { type: 'outbox-drop', verdict: 'info', dropped: [[6, 6], [8, 8]] })];
    expect(auditCompleteness(withDrops)).to.deep.equal({ received: 10, expected: 13, ratio: 10 / 13, deviceDropped: 2, lostInTransit: 1 });
    const a = withDrops.filter((r) => r.deviceId === 'A');
    expect(missingSeqs(a)).to.deep.equal({ received: 7, expected: 10, deviceDropped: [[6, 6], [8, 8]], lostInTransit: [[9, 9]] });
    // a report naming a seq that did arrive (sent before an eviction raced it) does not count it as dropped
    expect(missingSeqs([...a, row('A', 11, 56, { type: 'outbox-drop', verdict: 'info', dropped: [[5, 9]] })])).to.deep.include({ deviceDropped: [[6, 6], [8, 9]], lostInTransit: [] });
  });

  it('measures key-rotation propagation from the first report to 100 % of active devices', () => {
    expect(rotationPropagation(rows, 2, 0)).to.deep.equal({ version: 2, firstSeenAt: 100_000, devices: 2, onVersion: 1, share: 0.5, timeToAllMs: null });
    const all = [...rows, row('A', 8, 160, { type: 'boot-verification', verdict: 'ok', rootVersion: 3 })];
    expect(rotationPropagation(all, 2, 0)).to.deep.equal({ version: 2, firstSeenAt: 100_000, devices: 2, onVersion: 2, share: 1, timeToAllMs: 60_000 });
    // only devices active since t=90 s count: A (seq 8 at 160 s) and B
    expect(rotationPropagation(all, 3, 90_000)).to.deep.include({ devices: 2, onVersion: 1, share: 0.5 });
  });
});
