import { expect } from 'chai';
import { assertEvent, buildEvent, isValidId, type TelemetryEvent } from '../../src/telemetry/event.js';
import { expectCode } from '../helpers/expect-code.js';

const header = { deviceId: 'dev-1', fleet: 'lab', seq: 7, now: new Date('2026-01-02T03:04:05.000Z') };

describe('telemetry event schema', () => {
  it('builds a versioned event with header fields and drops undefined optionals', () => {
    const e = buildEvent({ type: 'boot-verification', verdict: 'refused', code: 'DIGEST_MISMATCH', image: { name: 'fw.bin', sha256: 'a'.repeat(64) }, latencyMs: 12, keyids: ['ab12'], detail: undefined }, header);
    expect(e).to.deep.equal({
      schema: 2, deviceId: 'dev-1', fleet: 'lab', seq: 7, time: '2026-01-02T03:04:05.000Z',
      type: 'boot-verification', verdict: 'refused', code: 'DIGEST_MISMATCH', image: { name: 'fw.bin', sha256: 'a'.repeat(64) }, latencyMs: 12, keyids: ['ab12'],
    });
  });

  it('requires a code on refusals and errors (every refusal has a code)', () => {
    expectCode(() => buildEvent({ type: 'install', verdict: 'refused' }, header), 'EVENT_INVALID');
  });

  it('reports every bad field at once', () => {
    const err = expectCode(() => assertEvent({ schema: 3, deviceId: 'a/b', fleet: '+', seq: 0, time: 'yesterday', type: 'reboot', verdict: 'maybe', code: 'NOPE', extra: 1 }), 'EVENT_INVALID');
    for (const field of ['schema', 'deviceId', 'fleet', 'seq', 'time', 'type', 'verdict', 'code', 'unknown fields: extra']) expect(err.message).to.contain(field);
  });

  const base: TelemetryEvent = { schema: 1, deviceId: 'd', fleet: 'f', seq: 1, time: '2026-01-01T00:00:00Z', type: 'agent-start', verdict: 'info' };
  const v2: TelemetryEvent = { ...base, schema: 2 };
  const v2metrics: TelemetryEvent = { ...v2, type: 'metrics', metrics: {} };
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
    ['schema 1 with device facts (a schema 2 field)', { ...base, type: 'metrics', metrics: {}, device: { slots: {} } }],
    ['schema 1 outbox-drop (a schema 2 type)', { ...base, type: 'outbox-drop', dropped: [[1, 2]] }],
    ['device facts on a non-metrics event', { ...v2, device: { slots: {} } }],
    ['a slot other than A|B', { ...v2metrics, device: { slots: { C: { target: 'x' } } } }],
    ['a slot digest that is not hex', { ...v2metrics, device: { slots: { A: { target: 'x', sha256: 'zz' } } } }],
    ['an active slot other than A|B', { ...v2metrics, device: { slots: {}, active: 'C' } }],
    ['floors with a missing counter', { ...v2metrics, device: { slots: {}, floors: { rootVersion: 1, securityVersion: 0, targetsVersion: 1 } } }],
    ['an outbox-drop without ranges', { ...v2, type: 'outbox-drop' }],
    ['dropped ranges on another type', { ...v2, dropped: [[1, 1]] }],
    ['a reversed drop range', { ...v2, type: 'outbox-drop', dropped: [[5, 4]] }],
    ['overlapping drop ranges', { ...v2, type: 'outbox-drop', dropped: [[1, 5], [5, 6]] }],
    ['unmerged adjacent drop ranges', { ...v2, type: 'outbox-drop', dropped: [[1, 5], [6, 6]] }],
    ['a drop range from seq 0', { ...v2, type: 'outbox-drop', dropped: [[0, 2]] }],
  ];
  for (const [what, x] of adversarial) {
    it(`rejects ${what}`, () => void expectCode(() => assertEvent(x), 'EVENT_INVALID'));
  }

  it('reads schema 1 and 2; schema 2 metrics carry device facts and outbox-drop events carry ranges', () => {
    assertEvent(base);
    assertEvent(v2);
    const facts = { slots: { A: { target: 'fw.bin', version: '1.0.0', sha256: 'a'.repeat(64) }, B: { target: 'fw.bin' } }, active: 'A', good: 'A', floors: { rootVersion: 1, securityVersion: 2, revocationVersion: 0, targetsVersion: 3 } };
    assertEvent({ ...v2metrics, device: facts });
    assertEvent({ ...v2, type: 'outbox-drop', dropped: [[1, 3], [7, 7]] });
  });

  it('accepts the minimal event and rejects topic wildcards in ids', () => {
    assertEvent(base);
    expect(isValidId('board-a.01_x')).to.equal(true);
    for (const bad of ['', 'a/b', '#', '+', 'a b', '-lead']) expect(isValidId(bad), bad).to.equal(false);
  });
});
