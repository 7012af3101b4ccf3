import { expect } from 'chai';
import { buildEvent, type EventInput } from '../../src/telemetry/event.js';
import { MetricsAggregator, percentile } from '../../src/telemetry/metrics.js';
import type { OutboxStats } from '../../src/telemetry/outbox/outbox.js';

const t0 = new Date('2026-03-01T00:00:00Z');
const outbox: OutboxStats = { depth: 2, bytes: 900, oldestAgeMs: 1500, dropped: { heartbeat: 1, routine: 0, security: 0 }, lastDroppedSeq: 4, storageErrors: 1 };
let seq = 0;
const ev = (input: EventInput, at = t0) => buildEvent(input, { deviceId: 'd', fleet: 'f', seq: ++seq, now: at });

describe('metrics aggregation', () => {
  it('computes nearest-rank percentiles', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([percentile(xs, 50), percentile(xs, 95), percentile(xs, 100), percentile([], 50)]).to.deep.equal([50, 95, 100, null]);
    expect(percentile([7], 95)).to.equal(7);
  });

  it('counts verify attempts, successes and failures by code, with latency p50/p95/max', () => {
    const m = new MetricsAggregator(t0);
    for (let i = 1; i <= 20; i++) m.observe(ev({ type: 'boot-verification', verdict: 'ok', latencyMs: i }));
    m.observe(ev({ type: 'update-decision', verdict: 'refused', code: 'ROLLBACK', latencyMs: 100 }));
    m.observe(ev({ type: 'boot-verification', verdict: 'refused', code: 'KEY_REVOKED' }));
    m.observe(ev({ type: 'agent-start', verdict: 'info', latencyMs: 9999 }));
    const s = m.snapshot(t0, outbox);
    expect(s.verify).to.deep.equal({ attempts: 22, successes: 20, failures: { ROLLBACK: 1, KEY_REVOKED: 1 } });
    expect(s.verifyLatencyMs).to.deep.equal({ count: 21, p50: 11, p95: 20, max: 100 });
    expect(s.blockedInstalls).to.equal(1);
  });

  it('reports the signed-deploy ratio, root version and key ids, revocation age and outbox state', () => {
    const m = new MetricsAggregator(t0);
    m.observe(ev({ type: 'install', verdict: 'ok', keyids: ['aa'] }));
    m.observe(ev({ type: 'install', verdict: 'ok' }));
    // one abandoned install: the installer's refusal and the attempt's update-decision count once
    m.observe(ev({ type: 'install', verdict: 'refused', code: 'DIGEST_MISMATCH' }));
    m.observe(ev({ type: 'update-decision', verdict: 'refused', code: 'DIGEST_MISMATCH' }));
    m.observe(ev({ type: 'anchor-status', verdict: 'ok', rootVersion: 3, keyids: ['c1', 'c2'] }));
    m.observe(ev({ type: 'revocation-refresh', verdict: 'ok', revocation: { version: 8, ageSeconds: 60 } }));
    m.observe(ev({ type: 'commit', verdict: 'error', code: 'STORAGE_ERROR' }));
    const s = m.snapshot(new Date(t0.getTime() + 30_000), outbox);
    expect([s.installs, s.signedInstalls, s.signedDeployPercent]).to.deep.equal([2, 1, 50]);
    expect(s.blockedInstalls).to.equal(1);
    expect(s.root).to.deep.equal({ version: 3, keyids: ['c1', 'c2'] });
    expect(s.revocation).to.deep.equal({ version: 8, ageSeconds: 90 });
    expect(s.outbox).to.deep.equal({ depth: 2, bytes: 900, oldestAgeMs: 1500, dropped: { heartbeat: 1, routine: 0, security: 0 } });
    expect(s.storageErrors).to.equal(2);
    expect(s.windowStart).to.equal(t0.toISOString());
  });

  it('bounds the latency window to the most recent samples', () => {
    const m = new MetricsAggregator(t0, 3);
    for (const l of [500, 1, 2, 3]) m.observe(ev({ type: 'boot-verification', verdict: 'ok', latencyMs: l }));
    expect(m.snapshot(t0, outbox).verifyLatencyMs).to.deep.equal({ count: 3, p50: 2, p95: 3, max: 3 });
  });

  it('has nulls, not zeros, where nothing was observed', () => {
    const s = new MetricsAggregator(t0).snapshot(t0, outbox);
    expect([s.signedDeployPercent, s.root, s.revocation, s.verifyLatencyMs.p50]).to.deep.equal([null, null, null, null]);
  });
});
