import { expect } from 'chai';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEventSigner, verifyEnvelope } from '../../src/telemetry/envelope.js';
import { startTelemetry } from '../../src/telemetry/service.js';
import { FleetWatch } from './fleet-watch.js';

describe('telemetry with no broker configured', function () {
  this.timeout(20_000);

  it('starts an embedded loopback broker and events flow through it', async () => {
    const seed = new Uint8Array(32).fill(4);
    const svc = await startTelemetry({ deviceId: 'newbie', fleet: 'demo', stateDir: await mkdtemp(join(tmpdir(), 'es-tel-')), metricsCron: null }, { seed });
    try {
      expect(svc.embedded).to.not.equal(undefined);
      expect(svc.brokerUrl).to.match(/^mqtt:\/\/127\.0\.0\.1:\d+$/);
      const watch = await FleetWatch.open(svc.brokerUrl, 'edgeseal/demo/#');
      await svc.reporter.record({ type: 'agent-start', verdict: 'info' });
      await svc.reporter.recordMetrics();
      await watch.waitFor('event and metrics', () => watch.envelopes().length === 2);
      const [start, metrics] = watch.envelopes();
      for (const env of watch.envelopes()) verifyEnvelope(env, createEventSigner(seed).publicKey);
      expect(start?.event.type).to.equal('agent-start');
      expect(metrics?.event.type).to.equal('metrics');
      expect(watch.messages.some((m) => m.topic === 'edgeseal/demo/newbie/metrics')).to.equal(true);
      await watch.close();
    } finally {
      await svc.stop();
    }
  });
});
