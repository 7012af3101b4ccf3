import { expect } from 'chai';
import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bindDigests } from '../../src/agent/boot-digests.js';
import { buildImageVerifier, type ImageVerifier } from '../../src/agent/image-verifier.js';
import { fixedImage, type InstalledImage } from '../../src/agent/installed-images.js';
import { DEFAULT_FRESHNESS_POLICY } from '../../src/revocation/policy.js';
import { loadTrustedMetadata } from '../../src/tuf/offline/load-trusted.js';
import { addImage, imageOf, newRepo, publishedFiles, sha256Hex, T0 } from '../helpers/tuf-repo.js';

// Where each boot-check digest comes from (issue 12 B, C): the pool, this thread, or this boot's record.
describe('agent boot digests: pool, main thread or boot record', () => {
  let dir: string;
  let verifier: ImageVerifier;
  const bytes = ['a', 'b', 'c'].map((l) => imageOf(l, 3 * 1024 * 1024 + 5));
  const images = (): InstalledImage[] => ['a', 'b', 'c'].map((l) => fixedImage({ target: `fw/${l}.bin`, kind: 'firmware', path: join(dir, `${l}.bin`) }));
  const digestsOf = (list: readonly InstalledImage[]): Promise<unknown[]> => Promise.all(list.map((i, n) => i.digest(bytes[n].length)));
  const expected = bytes.map((b) => ({ length: b.length, sha256: sha256Hex(b) }));

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'edgeseal-boot-digests-'));
    const { repo } = newRepo();
    for (const [n, l] of ['a', 'b', 'c'].entries()) {
      addImage(repo, `fw/${l}.bin`, bytes[n]);
      await writeFile(join(dir, `${l}.bin`), bytes[n]);
    }
    repo.sign(T0);
    const files = publishedFiles(repo);
    const trusted = loadTrustedMetadata(files, { now: T0, expiry: 'ignore' });
    const never = { state: 'never' as const, version: undefined, highestVersion: 0, ageDays: undefined, expires: undefined, list: undefined };
    verifier = buildImageVerifier({ trusted, files, hardwareId: 'board-a', floors: { rootVersion: 1, securityVersion: 0, revocationVersion: 0, targetsVersion: 0 }, revocations: () => never, freshness: { ...DEFAULT_FRESHNESS_POLICY, onNever: 'allow' } });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('hashes several image files on the pool, with the right digests, and the pool stops after', async () => {
    const bound = bindDigests(verifier, images(), T0, [], 0);
    expect(bound).to.include({ hashed: 3, pooled: 3, reused: 0 });
    try {
      expect(await digestsOf(bound.images)).to.deep.equal(expected);
    } finally {
      await bound.pool!.close();
    }
    expect(bound.pool!.live).to.equal(0);
  });

  it('keeps a small total on this thread; a lone image past the threshold goes to one worker', async () => {
    const one = bindDigests(verifier, images().slice(0, 1), T0, [], 0);
    expect(one).to.include({ hashed: 1, pooled: 1 });
    try {
      expect(one.pool?.size).to.equal(1);
      expect(await one.images[0].digest(bytes[0].length)).to.deep.equal(expected[0]);
    } finally {
      await one.pool?.close();
    }
    const small = bindDigests(verifier, images(), T0, []);
    expect(small).to.include({ hashed: 3, pooled: 0 });
    expect(small.pool).to.equal(undefined);
    expect(await digestsOf(small.images)).to.deep.equal(expected);
  });

  it('takes a recorded digest for the same target, location and signed length without reading the file', async () => {
    const [a, b] = images();
    const recorded = [{ target: b.target, location: b.location, length: bytes[1].length, sha256: expected[1].sha256, verifiedAt: T0.toISOString() }];
    const bound = bindDigests(verifier, [a, b], T0, [...recorded, { ...recorded[0], location: join(dir, 'elsewhere.bin') }]);
    expect(bound).to.include({ reused: 1, hashed: 1 });
    expect(bound.pool, 'one small image left to hash: this thread').to.equal(undefined);
    await unlink(join(dir, 'b.bin'));
    try {
      expect(await bound.images[1].digest(bytes[1].length)).to.deep.equal(expected[1]);
    } finally {
      await writeFile(join(dir, 'b.bin'), bytes[1]);
    }
  });
});
