import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readJournal } from '../../src/ota/install-journal.js';
import { expectCodeAsync } from '../helpers/expect-code.js';

const target = { name: 'fw/a.bin', length: 4, sha256: 'ab'.repeat(32), version: '1.0.0', securityVersion: 1 };
const journal = (outcome: unknown): string => JSON.stringify({ seq: 3, state: 'rolled-back', install: { target, fromSlot: 'A', toSlot: 'B', floorsRaised: false, outcome } });

describe('install journal reader', () => {
  let dir: string;
  let path: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'edgeseal-journal-'));
    path = join(dir, 'install.json');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads an outcome {code, message}', async () => {
    writeFileSync(path, journal({ code: 'GATE_REFUSED', message: 'no' }));
    expect((await readJournal(path)).install?.outcome).to.deep.equal({ code: 'GATE_REFUSED', message: 'no' });
  });

  // fuzz finding (issue 10 part I): `"outcome": null` was dereferenced (TypeError: `status` exit 70)
  it('refuses an outcome that is null, a number, a string or a list with STORAGE_ERROR', async () => {
    for (const outcome of [null, 0, 'x', [], [1], { code: 'NOT_A_CODE', message: 'm' }, { code: 'GATE_REFUSED' }]) {
      writeFileSync(path, journal(outcome));
      expect((await expectCodeAsync(() => readJournal(path), 'STORAGE_ERROR')).message).to.contain('outcome');
    }
  });
});
