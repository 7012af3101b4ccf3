import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { mkdtemp, open, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { digestFile, digestFileSync, readPlan, type DigestOptions, type FileDigest } from '../../src/io/file-digest.js';
import { expectCode, expectCodeAsync } from '../helpers/expect-code.js';

// The same rules whether the reads go through libuv (digestFile) or block a digest worker (digestFileSync).
const READERS: readonly [string, (path: string, opts?: DigestOptions) => Promise<FileDigest>][] = [
  ['digestFile', digestFile],
  ['digestFileSync', (path, opts) => Promise.resolve().then(() => digestFileSync(path, opts))],
];

for (const [reader, digest] of READERS) {
  describe(`io ${reader}`, () => {
    let dir: string;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'edgeseal-digest-'));
    });

    it('hashes empty, sub-chunk and multi-chunk files like one-shot sha256', async () => {
      for (const length of [0, 1, 1024 * 1024 - 1, 1024 * 1024, 3 * 1024 * 1024 + 17]) {
        const bytes = Buffer.alloc(length, length % 251);
        const path = join(dir, `f${length}`);
        await writeFile(path, bytes);
        expect(await digest(path)).to.deep.equal({ length, sha256: createHash('sha256').update(bytes).digest('hex') });
      }
    });

    it('refuses a file over maxLength before reading it, and accepts one exactly at it', async () => {
      const path = join(dir, 'capped');
      await writeFile(path, Buffer.alloc(1000));
      expect((await digest(path, { maxLength: 1000 })).length).to.equal(1000);
      await expectCodeAsync(() => digest(path, { maxLength: 999 }), 'OVERSIZED');
    });

    it('plans the read: a regular file to its end within maxLength, a block device over exactly maxLength', () => {
      expect(readPlan({ blockDevice: false, size: 1000 }, 1000, 'f')).to.deep.equal({ atMost: 1000 });
      expectCode(() => readPlan({ blockDevice: false, size: 1001 }, 1000, 'f'), 'OVERSIZED');
      expect(readPlan({ blockDevice: false, size: 5 }, undefined, 'f')).to.deep.equal({});
      // a partition is larger than its image (and stat reports size 0 for it): its size never refuses
      expect(readPlan({ blockDevice: true, size: 0 }, 1000, '/dev/x')).to.deep.equal({ exactly: 1000 });
      expect(readPlan({ blockDevice: true, size: 4096 }, 1000, '/dev/x')).to.deep.equal({ exactly: 1000 });
      expect(readPlan({ blockDevice: true, size: 0 }, undefined, '/dev/x')).to.deep.equal({});
    });

    it('keeps memory flat on a large sparse file', async function () {
      this.timeout(60_000);
      const path = join(dir, 'sparse');
      const fh = await open(path, 'w');
      await fh.truncate(256 * 1024 * 1024); // 256 MiB of holes: disk-cheap, read like real data
      await fh.close();
      const before = process.memoryUsage().rss;
      const started = process.hrtime.bigint();
      const { length } = await digest(path);
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      expect(length).to.equal(256 * 1024 * 1024);
      expect(process.memoryUsage().rss - before).to.be.below(64 * 1024 * 1024);
      console.log(`      ${reader} of 256 MiB: ${ms.toFixed(0)} ms (${((256 / ms) * 1000).toFixed(0)} MiB/s)`);
    });

    it('refuses symlinks, directories and missing files with codes', async () => {
      const target = join(dir, 'real');
      await writeFile(target, 'x');
      await symlink(target, join(dir, 'link'));
      await expectCodeAsync(() => digest(join(dir, 'link')), 'UNSAFE_PATH');
      await expectCodeAsync(() => digest(dir), 'UNSAFE_PATH');
      await expectCodeAsync(() => digest(join(dir, 'absent')), 'STORAGE_ERROR');
    });
  });
}
