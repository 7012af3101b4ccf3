import { expect } from 'chai';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EdgesealError } from '../../src/core/errors.js';
import { createEventSigner, verifyEnvelope } from '../../src/telemetry/envelope.js';
import type { BrokerConfig } from '../../src/telemetry/broker-connect.js';
import { startTelemetry, type TelemetryService } from '../../src/telemetry/service.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { FleetWatch } from './fleet-watch.js';

const seed = new Uint8Array(32).fill(1);
const publicKey = createEventSigner(seed).publicKey;
const FAST = { baseMs: 50, maxMs: 400 };

async function device(broker: BrokerConfig | undefined, errors: EdgesealError[] = [], deviceId = 'dev-1'): Promise<TelemetryService> {
  const stateDir = await mkdtemp(join(tmpdir(), 'es-tel-'));
  return startTelemetry({ deviceId, fleet: 'lab', broker, stateDir, metricsCron: null }, { seed, backoff: FAST, onState: (_s, e) => e && errors.push(e) });
}

const verdict = (i: number) => ({ type: 'boot-verification' as const, verdict: 'ok' as const, image: { name: `fw-${i}.bin` }, latencyMs: i });

describe('telemetry publisher against a real mosquitto', function () {
  this.timeout(30_000);
  let broker: Mosquitto;
  const cleanup: (() => Promise<unknown>)[] = [];

  beforeEach(async () => {
    broker = await startMosquitto();
    cleanup.push(() => broker.stop());
  });
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it('delivers signed events with increasing sequence numbers and removes them on PUBACK', async () => {
    const watch = await FleetWatch.open(broker.url, 'edgeseal/lab/#');
    cleanup.push(() => watch.close());
    const svc = await device({ url: broker.url });
    cleanup.push(() => svc.stop());
    for (let i = 0; i < 5; i++) await svc.reporter.record(verdict(i));
    await watch.waitFor('5 events', () => watch.envelopes().length === 5);
    const envs = watch.envelopes();
    for (const env of envs) verifyEnvelope(env, publicKey);
    expect(envs.map((e) => e.event.seq)).to.deep.equal([1, 2, 3, 4, 5]);
    expect(watch.messages.filter((m) => m.topic.endsWith('/event')).map((m) => m.topic)).to.include('edgeseal/lab/dev-1/event');
    await watch.waitFor('outbox drained', () => svc.outbox.stats(0).depth === 0);
    expect(watch.statuses()).to.include('online');
  });

  it('keeps events through a broker outage and delivers all of them, in order, after it returns', async () => {
    // The fleet side holds a persistent session, as a real backend does, so the broker queues for it.
    const watch = await FleetWatch.open(broker.url, 'edgeseal/lab/+/event', { clean: false, clientId: 'fleet-backend' });
    cleanup.push(() => watch.close());
    const svc = await device({ url: broker.url });
    cleanup.push(() => svc.stop());
    await svc.reporter.record(verdict(0));
    await watch.waitFor('first event', () => watch.envelopes().length === 1);
    await broker.stop();
    for (let i = 1; i <= 20; i++) await svc.reporter.record(verdict(i));
    expect(svc.outbox.stats(0).depth).to.equal(20);
    await broker.start();
    await watch.waitFor('20 events after the outage', () => watch.envelopes().filter((e) => e.event.seq >= 2).length === 20);
    const seqs = watch.envelopes().map((e) => e.event.seq).filter((s) => s >= 2);
    expect(seqs).to.deep.equal(Array.from({ length: 20 }, (_, i) => i + 2));
  });

  it('publishes a retained online status that a late subscriber sees, and offline on stop', async () => {
    const svc = await device({ url: broker.url });
    await new Promise((r) => setTimeout(r, 50));
    const early = await FleetWatch.open(broker.url, 'edgeseal/lab/dev-1/status');
    cleanup.push(() => early.close());
    await early.waitFor('retained online', () => early.statuses().includes('online'));
    expect(early.messages[0]?.retain).to.equal(true);
    await svc.stop();
    await early.waitFor('offline', () => early.statuses().at(-1) === 'offline');
  });

  it('puts install progress into the retained status, and keeps it there across a reconnect', async () => {
    const svc = await device({ url: broker.url });
    cleanup.push(() => svc.stop());
    const watch = await FleetWatch.open(broker.url, 'edgeseal/lab/dev-1/status');
    cleanup.push(() => watch.close());
    await watch.waitFor('device connected', () => svc.publisher?.state === 'connected');
    const progress = { phase: 'install', target: 'fw.bin', done: 110, total: 1024, percent: 10, bytesPerSecond: 55, at: '2026-12-06T07:00:02.000Z' };
    svc.publisher?.setInstallProgress(progress);
    const installOf = (m: { payload: Buffer }): unknown => (JSON.parse(m.payload.toString()) as { install?: unknown }).install;
    await watch.waitFor('status with install progress', () => watch.messages.some((m) => installOf(m) !== undefined));
    await broker.stop();
    await watch.waitFor('device noticed the outage', () => svc.publisher?.state !== 'connected');
    await broker.start();
    await watch.waitFor('device reconnected', () => svc.publisher?.state === 'connected');
    await new Promise((r) => setTimeout(r, 200)); // its status publish follows the SUBACK
    const late = await FleetWatch.open(broker.url, 'edgeseal/lab/dev-1/status');
    cleanup.push(() => late.close());
    await late.waitFor('retained online status after the reconnect', () => late.statuses().at(-1) === 'online');
    expect(late.messages.at(-1)?.retain).to.equal(true);
    expect(installOf(late.messages.at(-1)!)).to.deep.equal(progress);
  });

  it('routes fleet commands: valid ones reach the agent, malformed and unknown ones are reported as refused', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'es-tel-'));
    const got: string[] = [];
    const svc = await startTelemetry({ deviceId: 'dev-1', fleet: 'lab', broker: { url: broker.url }, stateDir, metricsCron: null }, { seed, backoff: FAST, onCommand: (c) => got.push(c.command) });
    cleanup.push(() => svc.stop());
    const watch = await FleetWatch.open(broker.url, 'edgeseal/lab/dev-1/event');
    cleanup.push(() => watch.close());
    await watch.waitFor('device connected', () => svc.publisher?.state === 'connected');
    for (const p of ['{"command":"check-update","id":"c1"}', 'not json', '{"command":"rm -rf"}', '{"command":"check-update","url":"http://evil"}', '\u0000\u00ff']) {
      await watch.client.publishAsync('edgeseal/lab/dev-1/cmd', p, { qos: 1 });
    }
    await watch.waitFor('5 command events', () => watch.envelopes().filter((e) => e.event.type === 'command').length === 5);
    const cmds = watch.envelopes().filter((e) => e.event.type === 'command').map((e) => [e.event.verdict, e.event.code ?? '']);
    expect(cmds).to.deep.equal([['ok', ''], ['refused', 'COMMAND_INVALID'], ['refused', 'COMMAND_INVALID'], ['refused', 'COMMAND_INVALID'], ['refused', 'COMMAND_INVALID']]);
    expect(got).to.deep.equal(['check-update']);
    expect(svc.publisher?.state).to.equal('connected');
  });
});

describe('telemetry publisher credentials', function () {
  this.timeout(30_000);

  it('reports BROKER_REJECTED for wrong credentials and keeps events until the right ones are used', async () => {
    const broker = await startMosquitto({ users: { device: 'right-pass' } });
    const open: { stop(): Promise<unknown> }[] = [broker];
    try {
      const errors: EdgesealError[] = [];
      const stateDir = await mkdtemp(join(tmpdir(), 'es-tel-'));
      const cfg = { deviceId: 'dev-1', fleet: 'lab', stateDir, metricsCron: null };
      const bad = await startTelemetry({ ...cfg, broker: { url: broker.url, username: 'device', password: 'wrong' } }, { seed, backoff: FAST, onState: (_s, e) => e && errors.push(e) });
      open.push(bad);
      for (let i = 0; i < 3; i++) await bad.reporter.record(verdict(i));
      const deadline = Date.now() + 5000;
      while (errors.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(errors[0]?.code).to.equal('BROKER_REJECTED');
      expect(errors[0]?.message).to.match(/refused the connection/);
      await bad.stop();
      expect(bad.outbox.stats(0).depth).to.equal(3);

      const watch = await FleetWatch.open(broker.url, 'edgeseal/lab/+/event', { username: 'device', password: 'right-pass' });
      open.push({ stop: () => watch.close() });
      const good = await startTelemetry({ ...cfg, broker: { url: broker.url, username: 'device', password: 'right-pass' } }, { seed, backoff: FAST });
      open.push(good);
      await watch.waitFor('3 kept events', () => watch.envelopes().length === 3);
      expect(watch.envelopes().map((e) => e.event.seq)).to.deep.equal([1, 2, 3]);
    } finally {
      for (const o of open.reverse()) await o.stop();
    }
  });
});
