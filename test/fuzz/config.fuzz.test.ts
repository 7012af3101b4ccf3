import { expect } from 'chai';
import { parseConfig } from '../../src/config/schema.js';
import { FULL } from '../config/full-config.js';
import { fuzz, iterations } from './harness.js';
import { mutateJsonText } from './mutator.js';

const MINIMAL = { deviceId: 'dev-1', hardwareId: 'board-a', images: [{ target: 'fw/a.bin', path: '/var/lib/edgeseal/fw.bin', kind: 'firmware' }] };

describe('fuzz: agent config', function () {
  this.timeout(0);

  it('mutated configs are a config or CONFIG_INVALID, with a bounded report', async () => {
    const seeds = [FULL, MINIMAL];
    const r = await fuzz({
      name: 'config',
      count: iterations(3000),
      generate: (rng, i) => (i === 0 ? JSON.stringify(FULL) : mutateJsonText(rng, rng.pick(seeds))),
      run: (text) => {
        try {
          return parseConfig(JSON.parse(text) as unknown, 'fuzz');
        } catch (err) {
          if (err instanceof SyntaxError) return undefined; // loadConfig's JSON step, not the validator
          // the problem cap holds for every input
          if (err instanceof Error) expect(err.message.split('\n').length).to.be.at.most(52);
          throw err;
        }
      },
    });
    expect(r.codes.get('CONFIG_INVALID')).to.be.greaterThan(0);
  });
});
