import { expect } from 'chai';
import { createEventSigner, encodeEnvelope } from '../../src/telemetry/envelope.js';
import { buildEvent } from '../../src/telemetry/event.js';
import { formatMessage } from '../../src/telemetry/format.js';
import { scheduleMetrics } from '../../src/telemetry/metrics-schedule.js';
import { expectCode } from '../helpers/expect-code.js';

const signer = createEventSigner(new Uint8Array(32).fill(4));
const payload = (type: 'commit' | 'metrics') =>
  encodeEnvelope(signer.sign(buildEvent(type === 'metrics' ? { type, verdict: 'info', metrics: {} } : { type, verdict: 'ok', rootVersion: 4, keyids: ['abcdef0123'], detail: 'slot B' }, { deviceId: 'd', fleet: 'f', seq: 5, now: new Date(0) })));

describe('telemetry tail formatting', () => {
  it('prints status, events and sparse metrics on one line each', () => {
    expect(formatMessage('edgeseal/f/d/status', Buffer.from('{"state":"offline"}')).line).to.equal('f/d  status offline');
    expect(formatMessage('edgeseal/f/d/status', Buffer.from('gone')).line).to.equal('f/d  status gone');
    const ev = formatMessage('edgeseal/f/d/event', payload('commit'), signer.publicKey);
    expect(ev).to.deep.equal({ line: '1970-01-01T00:00:00.000Z  f/d  #5  commit  OK  root v4  keys abcdef01  "slot B"  [sig ok]', forged: false });
    expect(formatMessage('edgeseal/f/d/metrics', payload('metrics')).line).to.match(/#5 {2}metrics verify 0\/0 ok, blocked 0, outbox 0, dropped 0 {2}\[sig unchecked\]$/);
  });

  it('flags malformed payloads and forged signatures instead of throwing', () => {
    expect(formatMessage('edgeseal/f/d/event', Buffer.from('{oops'))).to.include({ forged: true });
    expect(formatMessage('edgeseal/f/d/event', Buffer.from('{oops')).line).to.contain('MALFORMED [EVENT_INVALID]');
    expect(formatMessage('edgeseal/f/d/event', payload('commit'), createEventSigner(new Uint8Array(32)).publicKey).line).to.match(/\[sig forged\]$/);
  });
});

describe('metrics schedule', function () {
  this.timeout(5000);

  it('refuses an invalid cron expression', () => {
    expectCode(() => scheduleMetrics('every minute', () => Promise.resolve(), () => undefined), 'CONFIG_INVALID');
  });

  it('runs the tick on schedule and routes a failing tick to onError', async () => {
    let ticks = 0;
    const errors: unknown[] = [];
    const s = scheduleMetrics('* * * * * *', () => (++ticks === 1 ? Promise.reject(new Error('disk full')) : Promise.resolve()), (e) => errors.push(e));
    try {
      const deadline = Date.now() + 4000;
      while (ticks < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    } finally {
      await s.stop();
    }
    expect(ticks).to.be.greaterThanOrEqual(2);
    expect(errors).to.have.length(1);
  });
});
