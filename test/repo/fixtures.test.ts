import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { readdir, readFile, rm } from 'node:fs/promises';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { generate } from '../../firmware-fixtures/generate.js';
import { FIXTURES_OUT, readManifest, readMetadataDir } from '../../firmware-fixtures/manifest.js';
import { loadTrustedMetadata } from '../../src/tuf/offline/load-trusted.js';
import { refusal, verifyImage } from '../../src/tuf/offline/verify-image.js';

async function treeDigests(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const e of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const path = join(e.parentPath, e.name);
    out.set(relative(root, path), createHash('sha256').update(await readFile(path)).digest('hex'));
  }
  return out;
}

describe('firmware-fixtures', () => {
  it('regenerates byte-identical to the committed tree', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'edgeseal-fixtures-'));
    try {
      await generate(dir);
      const fresh = await treeDigests(dir);
      const committed = await treeDigests(FIXTURES_OUT);
      expect([...fresh.keys()].sort()).to.deep.equal([...committed.keys()].sort());
      for (const [path, digest] of fresh) expect(committed.get(path), path).to.equal(digest);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('stays small (committed output under 6 MiB) and has good cases for both hardware ids', async () => {
    let total = 0;
    for (const e of await readdir(FIXTURES_OUT, { recursive: true, withFileTypes: true })) {
      if (e.isFile()) total += (await readFile(join(e.parentPath, e.name))).length;
    }
    expect(total).to.be.below(6 * 1024 * 1024);
    const m = readManifest();
    expect(m.hardwareIds).to.deep.equal(['board-a', 'board-b']);
    expect(new Set(m.cases.filter((c) => c.expect === 'VERIFIED').map((c) => c.hardwareId))).to.deep.equal(new Set(['board-a', 'board-b']));
  });

  describe('every case maps to exactly its expected verdict in the offline verifier', () => {
    for (const c of readManifest().cases) {
      it(`${c.name} → ${c.expect}`, async () => {
        const now = new Date(c.now);
        const bytes = await readFile(join(FIXTURES_OUT, c.image));
        let got: string;
        try {
          const trusted = loadTrustedMetadata(readMetadataDir(join(FIXTURES_OUT, c.metadata)), { now, expiry: c.expiry, ...(c.floors ? { floors: c.floors } : {}) });
          const observed = { length: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
          const v = verifyImage(trusted, { targetName: c.target, observed, hardwareId: c.hardwareId, now });
          got = v.ok ? 'VERIFIED' : v.code;
        } catch (err) {
          const r = refusal(err);
          got = r.ok ? 'VERIFIED' : r.code;
        }
        expect(got).to.equal(c.expect);
      });
    }

    it('the rollback case offers older metadata than the trusted one it names', () => {
      const c = readManifest().cases.find((x) => x.name === 'rollback-targets')!;
      const trusted = loadTrustedMetadata(readMetadataDir(join(FIXTURES_OUT, c.trustedMetadata!)), { now: new Date(c.now), expiry: 'enforce' });
      expect(trusted.roles.get('targets')!.md.signed.version).to.equal(c.floors!.targetsVersion);
    });
  });
});
