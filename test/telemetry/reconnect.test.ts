import { expect } from 'chai';
import type { EdgesealError } from '../../src/core/errors.js';
import { Outbox } from '../../src/telemetry/outbox/outbox.js';
import { MemoryOutboxStore } from '../../src/telemetry/outbox/store.js';
import { MqttPublisher, type Timers } from '../../src/telemetry/publisher.js';
import { deviceTopics } from '../../src/telemetry/topics.js';
import { freePort } from '../helpers/free-port.js';
import { startMosquitto } from '../helpers/mosquitto.js';

// Records the delays the publisher asks for and fires them after 1 ms, so backoff is tested without sleeping.
function recordingTimers(): Timers & { delays: number[] } {
  const delays: number[] = [];
  return {
    delays,
    setTimeout: (fn, ms) => (delays.push(ms), setTimeout(fn, 1)),
    clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  };
}

const until = async (cond: () => boolean, ms = 10_000) => {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('publisher reconnect', function () {
  this.timeout(20_000);
  const topics = deviceTopics({ prefix: 'edgeseal', fleet: 'lab', deviceId: 'd' });

  it('retries an unreachable broker with exponential backoff and jitter, reporting BROKER_UNREACHABLE', async () => {
    const port = await freePort();
    const timers = recordingTimers();
    const errors: EdgesealError[] = [];
    const outbox = await Outbox.open(new MemoryOutboxStore());
    const pub = new MqttPublisher({ broker: { url: `mqtt://127.0.0.1:${port}` }, topics, outbox, clientId: 'd', backoff: { baseMs: 100, maxMs: 800 }, timers, random: () => 0, onState: (_s, e) => e && errors.push(e) });
    pub.start();
    await until(() => timers.delays.length >= 6);
    await pub.stop();
    expect(timers.delays.slice(0, 6)).to.deep.equal([50, 100, 200, 400, 400, 400]);
    expect(errors[0]?.code).to.equal('BROKER_UNREACHABLE');
    expect(pub.state).to.equal('stopped');
  });

  it('resets the backoff after a successful connection', async () => {
    const broker = await startMosquitto();
    const timers = recordingTimers();
    const outbox = await Outbox.open(new MemoryOutboxStore());
    const pub = new MqttPublisher({ broker: { url: broker.url }, topics, outbox, clientId: 'd', backoff: { baseMs: 100, maxMs: 800 }, timers, random: () => 1 });
    try {
      pub.start();
      await until(() => pub.state === 'connected');
      await broker.stop();
      await until(() => timers.delays.length >= 3);
      await broker.start();
      await until(() => pub.state === 'connected');
      const before = timers.delays.length;
      await broker.stop();
      await until(() => timers.delays.length > before);
      expect(timers.delays.slice(0, 3)).to.deep.equal([100, 200, 400]);
      expect(timers.delays[before]).to.equal(100);
    } finally {
      await pub.stop();
      await broker.stop();
    }
  });
});
