import { expect } from 'chai';
import { parseBootState } from '../../src/ota/boot-selector-file.js';
import { fuzz, iterations } from './harness.js';
import { mutateJsonText } from './mutator.js';

const SEEDS = [
  { active: 'A', good: 'A', trySlot: null, tryCount: 0 },
  { active: 'B', good: 'A', trySlot: 'B', tryCount: 1 },
];

describe('fuzz: boot selector file', function () {
  this.timeout(0);

  it('mutated boot selector files are a boot state or STORAGE_ERROR quoting a bounded excerpt', async () => {
    const r = await fuzz({
      name: 'boot selector',
      count: iterations(3000),
      generate: (rng, i) => (i === 0 ? JSON.stringify(SEEDS[0]) : mutateJsonText(rng, rng.pick(SEEDS))),
      run: (text) => {
        try {
          return parseBootState('fuzz/bootsel.json', text);
        } catch (err) {
          if (err instanceof Error) expect(err.message.length).to.be.below(1000);
          throw err;
        }
      },
    });
    expect([...r.codes.keys()]).to.deep.equal(['STORAGE_ERROR']);
  });
});
