import { expect } from 'chai';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dispatch } from '../../src/cli/dispatch.js';
import type { CliIo } from '../../src/cli/command.js';
import { publishedLayout } from '../../src/repo/published-layout.js';
import { testKey } from '../helpers/tuf-repo.js';
import { IMAGES, publishTestRepo } from '../tuf/published.js';
import { serveDir, type RepoServer } from '../tuf/repo-server.js';

function capture(): CliIo & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, out: (l) => lines.push(l), err: (l) => errors.push(l), isTTY: false };
}

const FW = 'firmware/board-a/fw.bin';
const APP = 'apps/app.bin';

describe('cli tuf-client (tuf-conformance protocol)', () => {
  let published: Awaited<ReturnType<typeof publishTestRepo>>;
  let server: RepoServer;
  let work: string;
  let md: string[];
  let dl: (dir: string, ...names: string[]) => string[];

  beforeEach(async () => {
    published = await publishTestRepo();
    server = await serveDir(published.dir);
    work = await mkdtemp(join(tmpdir(), 'edgeseal-tufc-'));
    md = ['--metadata-dir', join(work, 'metadata'), '--metadata-url', `${server.url}/metadata`];
    dl = (dir, ...names) => [...md, ...names.flatMap((n) => ['--target-name', n]), '--target-base-url', `${server.url}/targets`, '--target-dir', join(work, dir), 'download'];
    expect(await dispatch(['tuf-client', '--metadata-dir', join(work, 'metadata'), 'init', join(published.dir, 'metadata', '1.root.json')], capture())).to.equal(0);
  });
  afterEach(() => server.close());

  it('init makes no request; refresh stores non-versioned metadata and follows a root rotation', async () => {
    expect(server.requests).to.deep.equal([]);
    expect(await dispatch(['tuf-client', ...md, 'refresh'], capture())).to.equal(0);
    expect((await readdir(join(work, 'metadata'))).sort()).to.deep.equal(['root.json', 'snapshot.json', 'targets.json', 'timestamp.json']);
    published.repo.rotateKeys('root', { add: [testKey('root-next')], remove: [testKey('root-0').keyid] });
    published.repo.sign(new Date());
    await published.publish();
    expect(await dispatch(['tuf-client', ...md, 'refresh'], capture())).to.equal(0);
    const root = JSON.parse(await readFile(join(work, 'metadata', 'root.json'), 'utf8')) as { signed: { version: number } };
    expect(root.signed.version).to.equal(2);
  });

  it('downloads several targets in order and does not fetch a verified artifact again', async () => {
    const io = capture();
    expect(await dispatch(['tuf-client', ...dl('t', FW, APP)], io)).to.equal(0);
    expect(await readFile(join(work, 't', encodeURIComponent(FW)))).to.deep.equal(Buffer.from(IMAGES[FW]));
    expect(await readFile(join(work, 't', encodeURIComponent(APP)))).to.deep.equal(Buffer.from(IMAGES[APP]));
    const targetGets = (): number => server.requests.filter((p) => p.startsWith('/targets/')).length;
    expect(targetGets()).to.equal(2);
    expect(await dispatch(['tuf-client', ...dl('t', FW, APP)], capture())).to.equal(0);
    expect(targetGets()).to.equal(2);
  });

  it('exits 1 when a target was tampered with on the server, writing nothing', async () => {
    const t = publishedLayout(published.repo).targets.find((x) => x.name === FW)!;
    const evil = Buffer.from(IMAGES[FW]);
    evil[0] ^= 1;
    await writeFile(join(published.dir, t.path), evil);
    const io = capture();
    expect(await dispatch(['tuf-client', ...dl('t', FW)], io)).to.equal(1);
    expect(io.errors.join('\n')).to.contain('[DIGEST_MISMATCH]');
    expect(await readdir(join(work, 't'))).to.deep.equal([]);
  });

  it('stops at the first failing target with exit 1', async () => {
    expect(await dispatch(['tuf-client', ...dl('t', 'missing.bin', FW)], capture())).to.equal(1);
    expect(server.requests.filter((p) => p.startsWith('/targets/'))).to.deep.equal([]);
  });

  it('exits 1 (never 2) on usage errors, as the protocol requires', async () => {
    expect(await dispatch(['tuf-client', ...md, 'frobnicate'], capture())).to.equal(1);
    expect(await dispatch(['tuf-client', '--metadata-dir', join(work, 'metadata'), 'refresh'], capture())).to.equal(1);
    expect(await dispatch(['tuf-client', ...md, '--bogus', 'refresh'], capture())).to.equal(1);
  });
});
