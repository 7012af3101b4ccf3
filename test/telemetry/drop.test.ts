import { expect } from 'chai';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { missingSeqs } from '../../src/fleet/sli.js';
import type { MetricsBody } from '../../src/telemetry/metrics.js';
import { startTelemetry, type TelemetryService } from '../../src/telemetry/service.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { FleetWatch } from './fleet-watch.js';

const refused = (i: number) => ({ type: 'boot-verification' as const, verdict: 'refused' as const, code: 'DIGEST_MISMATCH' as const, image: { name: `fw-${i}` } });

describe('telemetry outbox bound during an outage', function () {
  this.timeout(30_000);

  it('keeps security verdicts over heartbeats and routine events, and records every dropped seq range in signed events', async () => {
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
      for (let i = 0; i < 3; i++) await r.record(refused(i)); // seq 5–7: 7 evicts heartbeat 2
      // the drop is recorded at once in a signed outbox-drop event (seq 8, which evicts heartbeat 3)
      expect(svc.outbox.pending().map((e) => e.seq)).to.deep.equal([1, 4, 5, 6, 7, 8]);
      await r.record(refused(3)); // seq 9 evicts heartbeat 4; its record, seq 10, evicts routine 1
      const full = await r.record({ type: 'update-check', verdict: 'info' }); // seq 11: nothing lower to evict
      expect(full.admitted).to.equal(false);
      // recording 1 and 11 would evict a security verdict: the record waits for room, taking no seq
      expect((await r.recordMetrics()).seq).to.equal(12);
      expect(svc.outbox.pending().map((e) => e.seq)).to.deep.equal([5, 6, 7, 8, 9, 10]);
      expect(svc.outbox.unreportedDrops()).to.deep.equal([[1, 1], [11, 12]]);

      await broker.start();
      await watch.waitFor('the kept entries', () => watch.envelopes().length === 6);
      const outbox = svc.outbox;
      await watch.waitFor('PUBACKs to empty the outbox', () => outbox.stats(0).depth === 0);
      // with room again, the next heartbeat is preceded by the record of what is still unreported
      await r.recordMetrics();
      await watch.waitFor('the drop record and heartbeat', () => watch.envelopes().length === 8);
      const got = watch.envelopes().map((e) => e.event);
      expect(got.map((e) => e.seq)).to.deep.equal([5, 6, 7, 8, 9, 10, 13, 14]);
      expect(got.filter((e) => e.type === 'outbox-drop').map((e) => [e.seq, e.dropped])).to.deep.equal([[8, [[2, 2]]], [10, [[3, 4]]], [13, [[1, 1], [11, 12]]]]);
      const body = got[7]?.metrics as unknown as MetricsBody;
      expect(body.outbox.dropped).to.deep.equal({ heartbeat: 4, routine: 2, security: 0 });
      expect(body.verify.failures).to.deep.equal({ DIGEST_MISMATCH: 4 });
      // the fleet side accounts for every missing seq as dropped by the device, none lost in transit
      const rows = got.map((event) => ({ fleet: 'lab', hardwareId: 'hw', deviceId: 'full', keyId: 'k', receivedAt: 0, event }));
      expect(missingSeqs(rows)).to.deep.equal({ received: 8, expected: 14, deviceDropped: [[1, 4], [11, 12]], lostInTransit: [] });
    } finally {
      await watch.close();
      await svc?.stop();
      await broker.stop();
    }
  });
});
