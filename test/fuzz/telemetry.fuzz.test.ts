import { expect } from 'chai';
import { parseCommand } from '../../src/telemetry/command.js';
import { createEventSigner, encodeEnvelope, parseEnvelope, verifyEnvelope } from '../../src/telemetry/envelope.js';
import { buildEvent, type TelemetryEvent } from '../../src/telemetry/event.js';
import { fuzz, iterations } from './harness.js';
import { mutateBytes, mutateJson, mutateJsonText } from './mutator.js';

const signer = createEventSigner(new Uint8Array(32).fill(9));
const now = new Date('2026-03-01T00:00:00Z');
const EVENTS = [
  buildEvent({ type: 'boot-verification', verdict: 'refused', code: 'DIGEST_MISMATCH', image: { name: 'fw/a.bin' } }, { deviceId: 'dev-1', fleet: 'lab', seq: 7, now }),
  buildEvent({ type: 'agent-start', verdict: 'info' }, { deviceId: 'dev-1', fleet: 'lab', seq: 1, now }),
];

describe('fuzz: telemetry envelopes and fleet commands', function () {
  this.timeout(0);

  it('mutated envelopes (some re-signed after the edit) parse and verify, or are EVENT_INVALID / SIGNATURE_INVALID', async () => {
    const r = await fuzz({
      name: 'telemetry envelope',
      count: iterations(2000),
      generate: (rng, i) => {
        const event = rng.pick(EVENTS);
        if (i === 0) return encodeEnvelope(signer.sign(event));
        if (rng.chance(0.4)) {
          // a well-formed signature over a mutated event: the shape checks must hold on their own
          const edited = mutateJson(rng, event) as TelemetryEvent;
          try {
            return encodeEnvelope(signer.sign(edited));
          } catch {
            return encodeEnvelope({ event: edited, sig: signer.sign(event).sig });
          }
        }
        const env = JSON.parse(Buffer.from(encodeEnvelope(signer.sign(event))).toString('utf8')) as unknown;
        return rng.chance(0.7) ? Buffer.from(mutateJsonText(rng, env)) : mutateBytes(rng, encodeEnvelope(signer.sign(event)));
      },
      run: (bytes) => verifyEnvelope(parseEnvelope(bytes), signer.publicKey),
    });
    expect([...r.codes.keys()].every((c) => ['EVENT_INVALID', 'SIGNATURE_INVALID'].includes(c))).to.equal(true);
  });

  it('mutated fleet commands are a command or COMMAND_INVALID', async () => {
    const seeds = [{ command: 'check-update', id: 'op-1' }, { command: 'report-status' }];
    const r = await fuzz({
      name: 'fleet command',
      count: iterations(3000),
      generate: (rng, i) => (i === 0 ? Buffer.from(JSON.stringify(seeds[0])) : rng.chance(0.7) ? Buffer.from(mutateJsonText(rng, rng.pick(seeds))) : mutateBytes(rng, Buffer.from(JSON.stringify(rng.pick(seeds))))),
      run: (bytes) => parseCommand(bytes),
    });
    expect([...r.codes.keys()]).to.deep.equal(['COMMAND_INVALID']);
  });
});
