import { expect } from 'chai';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { statusCommand } from '../../src/cli/status.js';
import { createEventSigner, verifyEnvelope } from '../../src/telemetry/envelope.js';
import { spoolBacklog } from '../../src/telemetry/outbox/disk-store.js';
import { startTelemetry } from '../../src/telemetry/service.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { FleetWatch } from './fleet-watch.js';

// `edgeseal status --json`'s telemetry part for a device whose config names no broker
async function statusTelemetry(stateDir: string): Promise<unknown> {
  const config = join(stateDir, 'config.json');
  await writeFile(config, JSON.stringify({ deviceId: 'newbie', hardwareId: 'board-a', stateDir, images: [{ target: 'fw/a.bin', path: join(stateDir, 'fw.bin'), kind: 'firmware' }] }));
  const out: string[] = [];
  expect(await statusCommand.run(['--config', config, '--json'], { out: (l) => out.push(l), err: (l) => out.push(l), isTTY: false })).to.equal(0);
  return (JSON.parse(out.join('\n')) as { telemetry: unknown }).telemetry;
}

// Issue 10 F: without telemetry.broker the agent used to start an embedded loopback broker that
// acknowledged every event into nothing. Now events wait in the durable outbox for a real broker.
describe('telemetry with no broker configured', function () {
  this.timeout(20_000);

  it('publishes nothing, keeps the events in the outbox, and delivers them once a broker is configured', async () => {
    const seed = new Uint8Array(32).fill(4);
    const stateDir = await mkdtemp(join(tmpdir(), 'es-tel-'));
    const cfg = { deviceId: 'newbie', fleet: 'demo', stateDir, metricsCron: null };
    const offline = await startTelemetry(cfg, { seed });
    try {
      expect(offline.publisher).to.equal(undefined);
      expect(offline.brokerUrl).to.equal(undefined);
      await offline.reporter.record({ type: 'agent-start', verdict: 'info' });
      await offline.reporter.record({ type: 'boot-verification', verdict: 'refused', code: 'DIGEST_MISMATCH', image: { name: 'fw' } });
    } finally {
      await offline.stop();
    }
    expect((await spoolBacklog(join(stateDir, 'outbox'))).entries).to.equal(2);
    expect(await statusTelemetry(stateDir)).to.deep.include({ broker: null, outbox: { entries: 2, bytes: (await spoolBacklog(join(stateDir, 'outbox'))).bytes } });

    const broker = await startMosquitto();
    const watch = await FleetWatch.open(broker.url, 'edgeseal/demo/#');
    const online = await startTelemetry({ ...cfg, broker: { url: broker.url } }, { seed });
    try {
      await watch.waitFor('the two queued events', () => watch.envelopes().length === 2);
      for (const env of watch.envelopes()) verifyEnvelope(env, createEventSigner(seed).publicKey);
      expect(watch.envelopes().map((e) => e.event.type)).to.deep.equal(['agent-start', 'boot-verification']);
    } finally {
      await online.stop();
      await watch.close();
      await broker.stop();
    }
    expect((await spoolBacklog(join(stateDir, 'outbox'))).entries).to.equal(0);
  });
});
