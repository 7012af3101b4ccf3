import { expect } from 'chai';
import { parseRequestLine } from '../../src/agent/control-socket.js';
import { fuzz, iterations } from './harness.js';
import { mutateJsonText } from './mutator.js';

// A line a process writes on the agent's control socket (docs/health.md): a mark request or USAGE.
const SEEDS = [{ op: 'mark-good' }, { op: 'mark-bad', reason: 'uplink down' }, { op: 'mark-active', slot: 'other' }, { op: 'mark-active', slot: 'B' }];

describe('fuzz: control socket request', function () {
  this.timeout(0);

  it('mutated requests are a mark request or USAGE', async () => {
    const r = await fuzz({
      name: 'control request',
      count: iterations(2000),
      generate: (rng, i) => (i === 0 ? JSON.stringify(SEEDS[0]) : mutateJsonText(rng, rng.pick(SEEDS))),
      run: (text) => {
        const req = parseRequestLine(text);
        expect(['mark-good', 'mark-bad', 'mark-active']).to.include(req.op);
        return req;
      },
    });
    expect([...r.codes.keys()]).to.deep.equal(['USAGE']);
  });
});
