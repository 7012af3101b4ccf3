import { expect } from 'chai';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { publishedLayout } from '../../src/repo/published-layout.js';
import { readMetadataDir } from '../../src/tuf/metadata-files.js';
import { loadTrustedMetadata } from '../../src/tuf/offline/load-trusted.js';
import { createDeviceUpdater, initMetadataDir, sourceAt } from '../../src/tuf/updater.js';
import { verifyInstalledImage } from '../../src/tuf/verify-installed.js';
import { expectCodeAsync } from '../helpers/expect-code.js';
import { testKey } from '../helpers/tuf-repo.js';
import { IMAGES, publishTestRepo } from './published.js';
import { serveDir, type RepoServer } from './repo-server.js';

const FW = 'firmware/board-a/fw.bin';

describe('tuf device updater', () => {
  let published: Awaited<ReturnType<typeof publishTestRepo>>;
  let server: RepoServer;
  let device: string;

  beforeEach(async () => {
    published = await publishTestRepo();
    server = await serveDir(published.dir);
    device = await mkdtemp(join(tmpdir(), 'edgeseal-device-'));
    await initMetadataDir(join(device, 'metadata'), await readFile(join(published.dir, 'metadata', '1.root.json')), true);
  });
  afterEach(() => server.close());

  it('refreshes over HTTP into non-versioned files and keeps the root history across a rotation', async () => {
    const metadataDir = join(device, 'metadata');
    await createDeviceUpdater({ metadataDir, source: sourceAt(server.url), keepRootHistory: true }).refresh();
    expect((await readdir(metadataDir)).sort()).to.deep.equal(['root.json', 'roots', 'snapshot.json', 'targets.json', 'timestamp.json']);
    published.repo.rotateKeys('root', { add: [testKey('root-next')], remove: [testKey('root-0').keyid] });
    published.repo.sign(new Date());
    await published.publish();
    await createDeviceUpdater({ metadataDir, source: sourceAt(server.url), keepRootHistory: true }).refresh();
    expect((await readdir(join(metadataDir, 'roots'))).sort()).to.deep.equal(['1.root.json', '2.root.json']);
    // the offline verifier walks the recorded chain from the pinned v1 root
    const trusted = loadTrustedMetadata(await readMetadataDir(metadataDir), { now: new Date(), expiry: 'enforce' });
    expect(trusted.root.signed.version).to.equal(2);
  });

  it('downloads a verified target once, then reuses the verified copy', async () => {
    const client = createDeviceUpdater({ metadataDir: join(device, 'metadata'), source: sourceAt(server.url) });
    await client.refresh();
    const first = await client.download(FW, join(device, 'images'));
    expect(first.cached).to.equal(false);
    expect(await readFile(first.path)).to.deep.equal(Buffer.from(IMAGES[FW]));
    const fetched = server.requests.filter((p) => p.startsWith('/targets/')).length;
    expect((await client.download(FW, join(device, 'images'))).cached).to.equal(true);
    expect(server.requests.filter((p) => p.startsWith('/targets/')).length).to.equal(fetched);
    const trusted = loadTrustedMetadata(await readMetadataDir(join(device, 'metadata')), { now: new Date(), expiry: 'enforce' });
    const progress: [number, number][] = []; // what `edgeseal verify` draws its bar from: bytes hashed of the signed length
    const { verdict } = verifyInstalledImage(trusted, { targetName: FW, file: first.path, hardwareId: 'board-a', now: new Date(), onProgress: (done, total) => progress.push([done, total]) });
    expect(verdict.ok).to.equal(true);
    expect(progress.at(-1)).to.deep.equal([IMAGES[FW].length, IMAGES[FW].length]);
  });

  it('refuses a tampered target on the server and leaves nothing in the target dir', async () => {
    const t = publishedLayout(published.repo).targets.find((x) => x.name === FW)!;
    const evil = Buffer.from(IMAGES[FW]);
    evil[100] ^= 0xff;
    await writeFile(join(published.dir, t.path), evil);
    const client = createDeviceUpdater({ metadataDir: join(device, 'metadata'), source: sourceAt(server.url) });
    await client.refresh();
    await expectCodeAsync(() => client.download(FW, join(device, 'images')), 'DIGEST_MISMATCH');
    expect(await readdir(join(device, 'images'))).to.deep.equal([]);
  });

  it('updates from a directory (USB stick) with the same client', async () => {
    const client = createDeviceUpdater({ metadataDir: join(device, 'metadata'), source: sourceAt(published.dir) });
    await client.refresh();
    const { path } = await client.download('apps/app.bin', join(device, 'images'));
    expect(await readFile(path)).to.deep.equal(Buffer.from(IMAGES['apps/app.bin']));
    await expectCodeAsync(() => client.download('nope.bin', join(device, 'images')), 'UNKNOWN_TARGET');
  });

  it('maps repository failures to codes: bad timestamp signature, unreachable mirror', async () => {
    const ts = join(published.dir, 'metadata', 'timestamp.json');
    const env = JSON.parse(await readFile(ts, 'utf8')) as { signed: { version: number } };
    env.signed.version += 1;
    await writeFile(ts, JSON.stringify(env));
    await expectCodeAsync(() => createDeviceUpdater({ metadataDir: join(device, 'metadata'), source: sourceAt(server.url) }).refresh(), 'SIGNATURE_THRESHOLD');
    await server.close();
    await expectCodeAsync(() => createDeviceUpdater({ metadataDir: join(device, 'metadata'), source: sourceAt(server.url) }).refresh(), 'FETCH_FAILED');
  });
});
