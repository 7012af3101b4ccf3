import { expect } from 'chai';
import { mkdtemp, readFile, readdir, stat, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../../src/store/atomic-write.js';
import { expectCodeAsync } from '../helpers/expect-code.js';

describe('writeFileAtomic', () => {
  it('replaces the file whole, with the requested mode, and leaves no temp file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'es-atomic-'));
    const path = join(dir, 'state.json');
    await writeFileAtomic(path, 'one');
    await writeFileAtomic(path, 'two', 0o600);
    expect(await readFile(path, 'utf8')).to.equal('two');
    expect(await readdir(dir)).to.deep.equal(['state.json']);
    expect((await stat(path)).mode & 0o777).to.equal(0o600);
  });

  it('reports STORAGE_ERROR when the target cannot be written', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'es-atomic-'));
    await mkdir(join(dir, 'occupied'));
    await expectCodeAsync(() => writeFileAtomic(join(dir, 'occupied'), 'x'), 'STORAGE_ERROR');
    expect(await readdir(dir)).to.deep.equal(['occupied']);
  });
});
