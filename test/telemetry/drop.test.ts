import { expect } from 'chai';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MetricsBody } from '../../src/telemetry/metrics.js';
import { startTelemetry, type TelemetryService } from '../../src/telemetry/service.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { FleetWatch } from './fleet-watch.js';

const refused = (i: number) => ({ type: 'boot-verification' as const, verdict: 'refused' as const, code: 'DIGEST_MISMATCH' as const, image: { name: `fw-${i}` } });

describe('telemetry outbox bound during an outage', function () {
  this.timeout(30_000);

  it('keeps security verdicts over heartbeats and routine events, and reports what it dropped', async () => {
    const broker = await startMosquitto();
    const watch = await FleetWatch.open(broker.url, 'edgeseal/lab/full/+', { clean: false, clientId: 'fleet-drop' });
    let svc: TelemetryService | undefined;
    try {
      await broker.stop();
      svc = await startTelemetry(
        { deviceId: 'full', fleet: 'lab', stateDir: await mkdtemp(join(tmpdir(), 'es-tel-')), broker: { url: broker.url }, metricsCron: null, limits: { maxEntries: 6, maxBytes: 1 << 20 } },
        { seed: new Uint8Array(32).fill(5), backoff: { baseMs: 50, maxMs: 200 } },
      );
      const r = svc.reporter;
      await r.record({ type: 'agent-start', verdict: 'info' }); // seq 1, routine
      for (let i = 0; i < 3; i++) await r.recordMetrics(); // seq 2–4, heartbeats
      for (let i = 0; i < 4; i++) await r.record(refused(i)); // seq 5–8 evict heartbeats 2, 3
      await r.record({ type: 'update-check', verdict: 'info' }); // seq 9 evicts heartbeat 4
      await r.record(refused(4)); // seq 10 evicts routine 1 (no heartbeat left)
      expect((await r.recordMetrics()).admitted).to.equal(false); // seq 11: nothing lower to evict
      expect(svc.outbox.pending().map((e) => e.seq)).to.deep.equal([5, 6, 7, 8, 9, 10]);

      await broker.start();
      await watch.waitFor('the kept entries', () => watch.envelopes().length === 6);
      expect(watch.envelopes().map((e) => e.event.seq)).to.deep.equal([5, 6, 7, 8, 9, 10]);
      // Once PUBACKs have made room again, the next heartbeat carries the drop report.
      const outbox = svc.outbox;
      await watch.waitFor('PUBACKs to empty the outbox', () => outbox.stats(0).depth === 0);
      await r.recordMetrics();
      await watch.waitFor('the drop report', () => watch.envelopes().length === 7);
      const report = watch.envelopes()[6];
      expect(report?.event.seq).to.equal(12);
      const body = report?.event.metrics as unknown as MetricsBody;
      expect(body.outbox.dropped).to.deep.equal({ heartbeat: 4, routine: 1, security: 0 });
      expect(body.verify.failures).to.deep.equal({ DIGEST_MISMATCH: 5 });
    } finally {
      await watch.close();
      await svc?.stop();
      await broker.stop();
    }
  });
});
