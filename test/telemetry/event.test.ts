import { expect } from 'chai';
import { assertEvent, buildEvent, isValidId, type TelemetryEvent } from '../../src/telemetry/event.js';
import { expectCode } from '../helpers/expect-code.js';

const header = { deviceId: 'dev-1', fleet: 'lab', seq: 7, now: new Date('2026-01-02T03:04:05.000Z') };

describe('telemetry event schema', () => {
  it('builds a versioned event with header fields and drops undefined optionals', () => {
    const e = buildEvent({ type: 'boot-verification', verdict: 'refused', code: 'DIGEST_MISMATCH', image: { name: 'fw.bin', sha256: 'a'.repeat(64) }, latencyMs: 12, keyids: ['ab12'], detail: undefined }, header);
    expect(e).to.deep.equal({
      schema: 1, deviceId: 'dev-1', fleet: 'lab', seq: 7, time: '2026-01-02T03:04:05.000Z',
      type: 'boot-verification', verdict: 'refused', code: 'DIGEST_MISMATCH', image: { name: 'fw.bin', sha256: 'a'.repeat(64) }, latencyMs: 12, keyids: ['ab12'],
    });
  });

  it('requires a code on refusals and errors (every refusal has a code)', () => {
    expectCode(() => buildEvent({ type: 'install', verdict: 'refused' }, header), 'EVENT_INVALID');
  });

  it('reports every bad field at once', () => {
    const err = expectCode(() => assertEvent({ schema: 2, deviceId: 'a/b', fleet: '+', seq: 0, time: 'yesterday', type: 'reboot', verdict: 'maybe', code: 'NOPE', extra: 1 }), 'EVENT_INVALID');
    for (const field of ['schema', 'deviceId', 'fleet', 'seq', 'time', 'type', 'verdict', 'code', 'unknown fields: extra']) expect(err.message).to.contain(field);
  });

  const base: TelemetryEvent = { schema: 1, deviceId: 'd', fleet: 'f', seq: 1, time: '2026-01-01T00:00:00Z', type: 'agent-start', verdict: 'info' };
  const adversarial: [string, unknown][] = [
    ['null', null],
    ['an array', [base]],
    ['a string', 'event'],
    ['a fractional seq', { ...base, seq: 1.5 }],
    ['a bad digest', { ...base, image: { name: 'x', sha256: 'XYZ' } }],
    ['an image without name', { ...base, image: {} }],
    ['non-hex key ids', { ...base, keyids: ['not hex!'] }],
    ['negative latency', { ...base, latencyMs: -1 }],
    ['fractional latency (canonical JSON has no floats)', { ...base, latencyMs: 0.5 }],
    ['root version 0', { ...base, rootVersion: 0 }],
    ['a malformed revocation ref', { ...base, revocation: { version: 'one' } }],
    ['an oversized detail', { ...base, detail: 'x'.repeat(513) }],
    ['metrics type without a body', { ...base, type: 'metrics' }],
    ['a metrics body on a non-metrics event', { ...base, metrics: {} }],
  ];
  for (const [what, x] of adversarial) {
    it(`rejects ${what}`, () => void expectCode(() => assertEvent(x), 'EVENT_INVALID'));
  }

  it('accepts the minimal event and rejects topic wildcards in ids', () => {
    assertEvent(base);
    expect(isValidId('board-a.01_x')).to.equal(true);
    for (const bad of ['', 'a/b', '#', '+', 'a b', '-lead']) expect(isValidId(bad), bad).to.equal(false);
  });
});
