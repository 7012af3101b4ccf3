import { expect } from 'chai';
import { copyFile, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writePublished } from '../../src/repo/publish-dir.js';
import { publishedLayout } from '../../src/repo/published-layout.js';
import { readMetadataDir } from '../../src/tuf/metadata-files.js';
import { loadTrustedMetadata } from '../../src/tuf/offline/load-trusted.js';
import { expectCodeAsync } from '../helpers/expect-code.js';
import { addImage, after, customFor, imageOf, newRepo, T0, testKey } from '../helpers/tuf-repo.js';

const now = after(0.5);

// Published repo with a delegated role and a root rotated twice (v1 → v2 → v3).
async function published(): Promise<string> {
  const { repo } = newRepo();
  addImage(repo, 'fw.bin', imageOf('fw'));
  repo.delegate({ name: 'builder', paths: ['apps/*'], keys: [testKey('builder')] });
  addImage(repo, 'apps/a.bin', imageOf('a'), customFor({ kind: 'app' }), 'builder');
  repo.sign(T0);
  for (const label of ['root-v2', 'root-v3']) {
    repo.rotateKeys('root', { add: [testKey(label)] });
    repo.sign(T0);
  }
  const dir = await mkdtemp(join(tmpdir(), 'edgeseal-mdir-'));
  await writePublished(dir, publishedLayout(repo), () => new Uint8Array());
  return join(dir, 'metadata');
}

describe('tuf readMetadataDir', () => {
  it('reads a published metadata/ dir: root chain from 1.root.json, versioned roles, delegated roles', async () => {
    const files = await readMetadataDir(await published());
    expect(files.rootChain).to.have.length(2);
    expect(Object.keys(files.delegated)).to.deep.equal(['builder']);
    const trusted = loadTrustedMetadata(files, { now, expiry: 'enforce' });
    expect(trusted.root.signed.version).to.equal(3);
    expect([...trusted.roles.keys()]).to.deep.equal(['targets', 'builder']);
  });

  it('reads a device cache: non-versioned roles, roots/ history, root.json ending a short history', async () => {
    const pub = await published();
    const cache = await mkdtemp(join(tmpdir(), 'edgeseal-cache-'));
    const names = await readdir(pub);
    const copy = async (from: RegExp, to: string): Promise<void> => copyFile(join(pub, names.find((n) => from.test(n))!), join(cache, to));
    await copy(/^3\.root\.json$/, 'root.json');
    await copy(/^timestamp\.json$/, 'timestamp.json');
    await copy(/^\d+\.snapshot\.json$/, 'snapshot.json');
    await copy(/^\d+\.targets\.json$/, 'targets.json');
    await copy(/^\d+\.builder\.json$/, 'builder.json');
    await mkdir(join(cache, 'roots'));
    await copy(/^1\.root\.json$/, 'roots/1.root.json');
    await copy(/^2\.root\.json$/, 'roots/2.root.json');
    const files = await readMetadataDir(cache);
    expect(files.rootChain).to.have.length(2);
    expect(loadTrustedMetadata(files, { now, expiry: 'enforce' }).root.signed.version).to.equal(3);
    // a gap in the history would mean verifying against an older root: refused
    await rm(join(cache, 'roots', '2.root.json'));
    await expectCodeAsync(() => readMetadataDir(cache), 'MALFORMED_METADATA');
  });

  it('refuses symlinked and oversized metadata files, and a missing directory, with codes', async () => {
    const pub = await published();
    const ts = join(pub, 'timestamp.json');
    await copyFile(ts, join(pub, 'ts.real'));
    await rm(ts);
    await symlink(join(pub, 'ts.real'), ts);
    await expectCodeAsync(() => readMetadataDir(pub), 'UNSAFE_PATH');
    await rm(ts);
    await writeFile(ts, Buffer.alloc(20_000, 0x20));
    await expectCodeAsync(() => readMetadataDir(pub), 'OVERSIZED');
    await expectCodeAsync(() => readMetadataDir(join(pub, 'nope')), 'STORAGE_ERROR');
  });
});
