import { expect } from 'chai';
import { parseRevocationList, serializeRevocationList } from '../../src/revocation/list.js';
import { makeList } from '../revocation/make-list.js';
import { fuzz, iterations } from './harness.js';
import { mutateBytes, mutateJsonText } from './mutator.js';

describe('fuzz: revocation list', function () {
  this.timeout(0);

  it('mutated lists are a list or a coded error', async () => {
    const seed = JSON.parse(Buffer.from(serializeRevocationList(makeList())).toString('utf8')) as unknown;
    const r = await fuzz({
      name: 'revocation list',
      count: iterations(3000),
      generate: (rng, i) => {
        if (i === 0) return Buffer.from(JSON.stringify(seed));
        return rng.chance(0.8) ? Buffer.from(mutateJsonText(rng, seed)) : mutateBytes(rng, Buffer.from(JSON.stringify(seed)));
      },
      run: (bytes) => parseRevocationList(bytes),
    });
    expect(r.values).to.be.greaterThan(0);
    expect(r.codes.size).to.be.greaterThan(0);
  });
});
