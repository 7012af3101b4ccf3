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
  const never = (): { state: 'never'; version: undefined; highestVersion: number; ageDays: undefined; expires: undefined; list: undefined } => ({ state: 'never', version: undefined, highestVersion: 0, ageDays: undefined, expires: undefined, list: undefined });
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
    verifier = buildImageVerifier({ trusted, files, hardwareId: 'board-a', floors: { rootVersion: 1, securityVersion: 0, revocationVersion: 0, targetsVersion: 0 }, revocations: never, freshness: { ...DEFAULT_FRESHNESS_POLICY, onNever: 'allow' } });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('hashes several image files on the pool, with the right digests, and the pool stops after', async () => {
    const bound = bindDigests(verifier, images(), T0, [], { poolMinBytes: 0 });
    expect(bound).to.include({ hashed: 3, pooled: 3, reused: 0 });
    try {
      expect(await digestsOf(bound.images)).to.deep.equal(expected);
    } finally {
      await bound.pool!.close();
    }
    expect(bound.pool!.live).to.equal(0);
  });

  it('keeps a small total on this thread; a lone image past the threshold goes to one worker', async () => {
    const one = bindDigests(verifier, images().slice(0, 1), T0, [], { poolMinBytes: 0 });
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

  it('reports progress over all pooled images as one figure, from the workers, to 100 %; small images report nothing', async () => {
    const big = ['x', 'y', 'z'].map((l, n) => ({ target: `fw/${l}.bin`, path: join(dir, `${l}.bin`), bytes: Buffer.alloc(24 * 1024 * 1024 + n, l) }));
    const { repo } = newRepo();
    for (const b of big) {
      addImage(repo, b.target, b.bytes);
      await writeFile(b.path, b.bytes);
    }
    repo.sign(T0);
    const files = publishedFiles(repo);
    const trusted = loadTrustedMetadata(files, { now: T0, expiry: 'ignore' });
    const bigVerifier = buildImageVerifier({ trusted, files, hardwareId: 'board-a', floors: { rootVersion: 1, securityVersion: 0, revocationVersion: 0, targetsVersion: 0 }, revocations: never, freshness: { ...DEFAULT_FRESHNESS_POLICY, onNever: 'allow' } });
    const lines: { line: string; fields: Record<string, unknown> }[] = [];
    const bound = bindDigests(bigVerifier, big.map((b) => fixedImage({ target: b.target, kind: 'firmware', path: b.path })), T0, [], { progress: { log: (line, fields) => lines.push({ line, fields }) } });
    expect(bound).to.include({ hashed: 3, pooled: 3 });
    try {
      expect(await Promise.all(bound.images.map((i, n) => i.digest(big[n].bytes.length)))).to.deep.equal(big.map((b) => ({ length: b.bytes.length, sha256: sha256Hex(b.bytes) })));
    } finally {
      await bound.pool!.close();
    }
    const done = lines.map((l) => l.fields.done as number);
    expect(done).to.deep.equal([...done].sort((a, b) => a - b));
    // the first report is a worker's: bytes hashed while no image had finished
    expect(lines[0].fields).to.include({ imagesDone: 0 });
    expect(done[0]).to.be.greaterThan(0);
    expect(lines.at(-1)!.line).to.match(/^boot check: 100% .*; 3\/3 images$/);

    const quiet: string[] = [];
    const small = bindDigests(verifier, images(), T0, [], { poolMinBytes: 0, progress: { log: (line) => quiet.push(line), status: (t) => quiet.push(t) } });
    try {
      expect(await digestsOf(small.images)).to.deep.equal(expected);
    } finally {
      await small.pool?.close();
    }
    expect(quiet, 'images of 9 MiB in all show no progress').to.deep.equal([]);
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
