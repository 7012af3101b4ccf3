import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { digestPoolSize, MAX_DIGEST_WORKERS, openDigestPool, PROGRESS_EVERY } from '../../src/io/digest-pool.js';
import { expectCodeAsync } from '../helpers/expect-code.js';

describe('io digest pool (worker threads)', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'edgeseal-pool-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('sizes the pool by jobs and cores, capped', () => {
    expect(digestPoolSize(1, 8)).to.equal(1);
    expect(digestPoolSize(50, 2)).to.equal(2);
    expect(digestPoolSize(50, 64)).to.equal(MAX_DIGEST_WORKERS);
    expect(digestPoolSize(0, 2)).to.equal(1);
  });

  it('returns each file its own digest and length, with more files than workers', async () => {
    const files = await Promise.all(
      [0, 1, 1024 * 1024 + 3, 17, 2 * 1024 * 1024, 5].map(async (length, i) => {
        const bytes = Buffer.alloc(length, i + 1);
        const path = join(dir, `f${i}`);
        await writeFile(path, bytes);
        return { path, expected: { length, sha256: createHash('sha256').update(bytes).digest('hex') } };
      }),
    );
    const pool = openDigestPool(2);
    try {
      const got = await Promise.all(files.map((f) => pool.digest({ path: f.path, maxLength: f.expected.length })));
      expect(got).to.deep.equal(files.map((f) => f.expected));
    } finally {
      await pool.close();
    }
  });

  it('rejects with the code digestFile gives: missing, longer than maxLength, symlink; a short file reports its length', async () => {
    await writeFile(join(dir, 'ten'), Buffer.alloc(10));
    await symlink(join(dir, 'ten'), join(dir, 'link'));
    const pool = openDigestPool(2);
    try {
      await expectCodeAsync(() => pool.digest({ path: join(dir, 'missing') }), 'STORAGE_ERROR');
      await expectCodeAsync(() => pool.digest({ path: join(dir, 'ten'), maxLength: 9 }), 'OVERSIZED');
      await expectCodeAsync(() => pool.digest({ path: join(dir, 'link') }), 'UNSAFE_PATH');
      // shorter than the signed length: the caller's length check refuses it (LENGTH_MISMATCH)
      expect((await pool.digest({ path: join(dir, 'ten'), maxLength: 100 })).length).to.equal(10);
    } finally {
      await pool.close();
    }
  });

  it('reports the progress of a job from its worker every PROGRESS_EVERY bytes, before its digest, only when asked', async () => {
    const length = 3 * PROGRESS_EVERY + 5;
    const path = join(dir, 'long');
    await writeFile(path, Buffer.alloc(length, 9));
    const pool = openDigestPool(2);
    try {
      const seen: number[] = [];
      let settled = false;
      const asked = pool.digest({ path, maxLength: length }, (done) => seen.push(settled ? -1 : done));
      const quiet = pool.digest({ path, maxLength: length });
      const [digest] = await Promise.all([asked.finally(() => (settled = true)), quiet]);
      expect(digest.length).to.equal(length);
      expect(seen).to.have.length(3);
      seen.forEach((done, i) => expect(done, `report ${i}`).to.be.within((i + 1) * PROGRESS_EVERY, length - 1));
    } finally {
      await pool.close();
    }
  });

  it('terminates every worker on close, and refuses work after it', async () => {
    const pool = openDigestPool(3);
    expect(pool.live).to.equal(3);
    await pool.close();
    expect(pool.live).to.equal(0);
    await expectCodeAsync(() => pool.digest({ path: join(dir, 'ten') }), 'INTERNAL');
  });
});
