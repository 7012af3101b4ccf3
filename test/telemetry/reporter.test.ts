import { expect } from 'chai';
import { createEventSigner, parseEnvelope, verifyEnvelope } from '../../src/telemetry/envelope.js';
import { Outbox } from '../../src/telemetry/outbox/outbox.js';
import { MemoryOutboxStore } from '../../src/telemetry/outbox/store.js';
import { TelemetryReporter } from '../../src/telemetry/reporter.js';
import { TokenBucket } from '../../src/telemetry/rate-limit.js';
import { expectCodeAsync } from '../helpers/expect-code.js';

async function reporter(tick = 1000) {
  const signer = createEventSigner(new Uint8Array(32).fill(6));
  const outbox = await Outbox.open(new MemoryOutboxStore());
  let t = Date.parse('2026-05-01T10:00:00Z');
  const r = new TelemetryReporter({ outbox, signer, deviceId: 'd1', fleet: 'f1', clock: () => new Date((t += tick)) });
  return { r, outbox, signer };
}

describe('TelemetryReporter', () => {
  it('stores each verdict as a signed, sequenced envelope on the right channel', async () => {
    const { r, outbox, signer } = await reporter();
    const a = await r.record({ type: 'boot-verification', verdict: 'ok', latencyMs: 4 });
    const b = await r.recordMetrics();
    expect([a.seq, b.seq]).to.deep.equal([1, 2]);
    const [e1, e2] = outbox.pending();
    expect([e1?.channel, e2?.channel, e1?.priority, e2?.priority]).to.deep.equal(['event', 'metrics', 2, 0]);
    const env = parseEnvelope(e1?.bytes ?? new Uint8Array());
    verifyEnvelope(env, signer.publicKey);
    expect(env.event).to.include({ deviceId: 'd1', fleet: 'f1', seq: 1, time: '2026-05-01T10:00:02.000Z' }); // the first tick is the metrics window start
    expect((b.event.metrics as { verify: { attempts: number } }).verify.attempts).to.equal(1);
  });

  it('refuses an invalid event before it reaches the outbox', async () => {
    const { r, outbox } = await reporter();
    await expectCodeAsync(() => r.record({ type: 'install', verdict: 'error' }), 'EVENT_INVALID');
    expect(outbox.stats(0).depth).to.equal(0);
  });

  it('reports rejected commands as refused command events and never throws', async () => {
    const { r, outbox } = await reporter();
    expect(await r.handleCommand(new TextEncoder().encode('{"command":"self-destruct"}'))).to.equal(undefined);
    expect(await r.handleCommand(new TextEncoder().encode('{"command":"report-status","id":"7"}'))).to.deep.equal({ command: 'report-status', id: '7' });
    const events = outbox.pending().map((e) => parseEnvelope(e.bytes).event);
    expect(events.map((e) => [e.type, e.verdict, e.code])).to.deep.equal([['command', 'refused', 'COMMAND_INVALID'], ['command', 'ok', undefined]]);
    expect(events[1]?.detail).to.equal('report-status id=7');
  });

  it('refuses commands beyond the rate cap (never handed on), reports that once, and counts them in the metrics', async () => {
    let t = Date.parse('2026-05-01T10:00:00Z');
    const outbox = await Outbox.open(new MemoryOutboxStore());
    const r = new TelemetryReporter({ outbox, signer: createEventSigner(new Uint8Array(32).fill(6)), deviceId: 'd1', fleet: 'f1', clock: () => new Date(t) });
    const junk = new TextEncoder().encode('{"command":"format-disk"}');
    const nudge = new TextEncoder().encode('{"command":"check-update"}');
    for (let i = 0; i < 50; i++) await r.handleCommand(junk);
    expect(await r.handleCommand(nudge), 'a nudge beyond the cap is refused, not run').to.equal(undefined);
    const events = outbox.pending().map((e) => parseEnvelope(e.bytes).event);
    expect(events).to.have.length(21);
    expect(events.filter((e) => e.code === 'RATE_LIMITED').map((e) => events.indexOf(e))).to.deep.equal([20]);
    t += 6_000; // one token refills at 10/min: admitted, and the next stretch of refusals is reported again
    expect(await r.handleCommand(nudge)).to.deep.equal({ command: 'check-update' });
    expect(await r.handleCommand(nudge)).to.equal(undefined);
    expect(outbox.pending().map((e) => parseEnvelope(e.bytes).event.code).slice(21)).to.deep.equal([undefined, 'RATE_LIMITED']);
    const m = await r.recordMetrics();
    expect((m.event.metrics as { commandEventsSuppressed: number }).commandEventsSuppressed).to.equal(32);
  });
});

describe('TokenBucket', () => {
  it('allows a burst, then refills at the configured rate', () => {
    const b = new TokenBucket(2, 60, 0);
    expect([b.take(0), b.take(0), b.take(0)]).to.deep.equal([true, true, false]);
    expect([b.take(999), b.take(1000), b.take(1000)]).to.deep.equal([false, true, false]);
    expect([b.take(60_000), b.take(60_000), b.take(60_000)]).to.deep.equal([true, true, false]);
  });
});
