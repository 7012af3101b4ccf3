import { expect } from 'chai';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EdgesealError } from '../../src/core/errors.js';
import { connectOnce } from '../../src/telemetry/broker-connect.js';
import { startTelemetry } from '../../src/telemetry/service.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { expectCodeAsync } from '../helpers/expect-code.js';
import { FleetWatch } from './fleet-watch.js';
import { makeTestPki, type TestPki } from './test-ca.js';

const seed = new Uint8Array(32).fill(2);

describe('telemetry over TLS with a test CA', function () {
  this.timeout(30_000);
  let pki: TestPki;
  let broker: Mosquitto;

  before(async () => {
    pki = await makeTestPki();
    broker = await startMosquitto({ tls: { caFile: pki.caFile, certFile: pki.serverCert, keyFile: pki.serverKey, requireClientCert: true } });
  });
  after(async () => broker.stop());

  it('delivers events over mutual TLS when the device trusts the CA and presents its certificate', async () => {
    const fleetTls = { ca: await readFile(pki.caFile), cert: await readFile(pki.clientCert), key: await readFile(pki.clientKey) };
    const watch = await FleetWatch.open(broker.url, 'edgeseal/lab/+/event', fleetTls);
    const svc = await startTelemetry(
      { deviceId: 'dev-tls', fleet: 'lab', stateDir: await mkdtemp(join(tmpdir(), 'es-tel-')), metricsCron: null, broker: { url: broker.url, caFile: pki.caFile, certFile: pki.clientCert, keyFile: pki.clientKey } },
      { seed, backoff: { baseMs: 50, maxMs: 200 } },
    );
    try {
      await svc.reporter.record({ type: 'anchor-status', verdict: 'ok', rootVersion: 1 });
      await watch.waitFor('event over TLS', () => watch.envelopes().length === 1);
      expect(watch.envelopes()[0]?.event.deviceId).to.equal('dev-tls');
    } finally {
      await svc.stop();
      await watch.close();
    }
  });

  it('refuses a broker whose certificate the configured CA did not sign', async () => {
    const err = await expectCodeAsync(() => connectOnce({ url: broker.url, caFile: pki.otherCaFile, certFile: pki.clientCert, keyFile: pki.clientKey }), 'BROKER_UNREACHABLE');
    expect(err.message).to.match(/TLS handshake/);
  });

  it('keeps events and reports an error when the device has no client certificate', async () => {
    const errors: EdgesealError[] = [];
    const svc = await startTelemetry(
      { deviceId: 'dev-tls', fleet: 'lab', stateDir: await mkdtemp(join(tmpdir(), 'es-tel-')), metricsCron: null, broker: { url: broker.url, caFile: pki.caFile } },
      { seed, backoff: { baseMs: 50, maxMs: 200 }, onState: (_s, e) => e && errors.push(e) },
    );
    try {
      await svc.reporter.record({ type: 'agent-start', verdict: 'info' });
      const deadline = Date.now() + 5000;
      while (errors.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(errors[0]?.code).to.equal('BROKER_UNREACHABLE');
      expect(errors[0]?.message).to.match(/TLS handshake.*certificate required/);
      expect(svc.outbox.stats(0).depth).to.equal(1);
    } finally {
      await svc.stop();
    }
  });

  it('rejects half-configured mutual TLS, unreadable CA paths and bad URLs as CONFIG_INVALID, before connecting', async () => {
    await expectCodeAsync(() => connectOnce({ url: broker.url, certFile: pki.clientCert }), 'CONFIG_INVALID');
    await expectCodeAsync(() => connectOnce({ url: broker.url, caFile: '/nonexistent/ca.pem' }), 'CONFIG_INVALID');
    const stateDir = await mkdtemp(join(tmpdir(), 'es-tel-'));
    for (const bad of [{ url: 'tcp//127.0.0.1:1883' }, { url: 'mqtts://127.0.0.1:1', caFile: '/nonexistent/ca.pem' }]) {
      await expectCodeAsync(() => startTelemetry({ deviceId: 'd', fleet: 'lab', stateDir, metricsCron: null, broker: bad }, { seed }), 'CONFIG_INVALID');
    }
  });
});
