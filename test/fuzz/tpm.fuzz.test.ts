import { expect } from 'chai';
import { TpmClient } from '../../src/tpm/client.js';
import { TPM_HT } from '../../src/tpm/constants.js';
import type { TpmTransport } from '../../src/tpm/transport.js';
import { recordResponses } from '../helpers/recording-transport.js';
import { startSwtpm, type Swtpm } from '../helpers/swtpm.js';
import { EndlessCapabilityTpm } from '../tpm/hostile-tpm.js';
import { fuzz, iterations } from './harness.js';
import { mutateBytes } from './mutator.js';

// TPM responses recorded from a real swtpm, replayed mutated (and the last one repeated for any
// further command, so a mutated moreData keeps coming back).

const OPS: readonly { name: string; op: (c: TpmClient) => Promise<unknown> }[] = [
  { name: 'Startup', op: (c) => c.startup() },
  { name: 'GetRandom', op: (c) => c.getRandom(48) },
  { name: 'GetCapability properties', op: (c) => c.getIdentity() },
  { name: 'GetCapability algorithms', op: (c) => c.getAlgorithms() },
  { name: 'GetCapability PCR banks', op: (c) => c.getPcrBanks() },
  { name: 'GetCapability handles', op: (c) => c.getHandles(TPM_HT.NV_INDEX) },
  { name: 'PCR_Read', op: (c) => c.pcrRead({ hash: 'sha256', pcrs: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10] }) },
];

// A TPM that lists handles without end, answering on a later turn of the event loop as a socket would.
function endless(perPage: number): TpmClient {
  const tpm = new EndlessCapabilityTpm(Number.MAX_SAFE_INTEGER, perPage);
  const t: TpmTransport = { description: tpm.description, send: (cmd) => new Promise((resolve) => setImmediate(() => resolve(tpm.send(cmd)))), close: () => tpm.close() };
  return new TpmClient(t, { sleep: () => Promise.resolve() });
}

function replay(responses: readonly Uint8Array[]): TpmClient {
  let i = 0;
  const t: TpmTransport = { description: 'fuzz replay', send: () => Promise.resolve(responses[Math.min(i++, responses.length - 1)]), close: () => Promise.resolve() };
  return new TpmClient(t, { sleep: () => Promise.resolve() });
}

describe('fuzz: TPM responses', function () {
  this.timeout(0);
  let recorded = new Map<string, Uint8Array[]>();
  let swtpm: Swtpm | undefined;

  before(async () => {
    swtpm = await startSwtpm();
    recorded = await recordResponses(swtpm.address, OPS);
  });
  after(() => swtpm?.stop());

  it('mutated responses to every command are a value or a coded TPM error', async () => {
    const r = await fuzz({
      name: 'tpm',
      count: iterations(4000),
      generate: (rng, i) => {
        if (i > 0 && rng.chance(0.01)) return { name: 'endless moreData', op: (c: TpmClient) => c.getHandles(TPM_HT.NV_INDEX), responses: [], perPage: 1 + rng.int(1024) };
        const { name, op } = i === 0 ? OPS[2] : rng.pick(OPS);
        const responses = [...recorded.get(name)!];
        if (i > 0) {
          const k = rng.int(responses.length);
          const bytes = mutateBytes(rng, responses[k]);
          // usually keep the header's size field right, so the mutation reaches the parameter parsers
          if (rng.chance(0.7) && bytes.length >= 6) new DataView(bytes.buffer, bytes.byteOffset).setUint32(2, bytes.length);
          responses[k] = bytes;
        }
        return { name, op, responses, perPage: 0 };
      },
      run: ({ op, responses, perPage }) => op(perPage ? endless(perPage) : replay(responses)),
      describe: ({ name, responses }) => `${name}: ${responses.map((b) => Buffer.from(b).toString('hex')).join(' | ')}`,
    });
    expect(r.codes.get('TPM_MALFORMED_RESPONSE')).to.be.greaterThan(0);
  });
});
