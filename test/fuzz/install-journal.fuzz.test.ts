import { expect } from 'chai';
import { parseJournal } from '../../src/ota/install-journal.js';
import { fuzz, iterations } from './harness.js';
import { mutateJsonText } from './mutator.js';

const target = { name: 'fw/a.bin', length: 4096, sha256: 'ab'.repeat(32), version: '1.1.0', securityVersion: 2 };
const SEEDS = [
  { seq: 4, state: 'committed', install: { target, fromSlot: 'A', toSlot: 'B', floorsRaised: false, outcome: { code: 'FLOOR_VIOLATION', message: 'm' } } },
  { seq: 2, state: 'staged', install: { target, fromSlot: 'B', toSlot: 'A', floorsRaised: false } },
  { seq: 0, state: 'idle', install: null },
];

describe('fuzz: install journal', function () {
  this.timeout(0);

  it('mutated journals are a journal or STORAGE_ERROR', async () => {
    const r = await fuzz({
      name: 'install journal',
      count: iterations(3000),
      generate: (rng, i) => (i === 0 ? JSON.stringify(SEEDS[0]) : mutateJsonText(rng, rng.pick(SEEDS))),
      run: (text) => parseJournal('fuzz/install.json', text),
    });
    expect([...r.codes.keys()]).to.deep.equal(['STORAGE_ERROR']);
  });
});
