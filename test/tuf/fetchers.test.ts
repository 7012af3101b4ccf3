import { expect } from 'chai';
import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DownloadHTTPError } from 'tuf-js/dist/error.js';
import { DirFetcher } from '../../src/tuf/fetchers/dir-fetcher.js';
import { HttpTransport } from '../../src/net/http-transport.js';
import { HttpFetcher } from '../../src/tuf/fetchers/http-fetcher.js';
import { expectCodeAsync } from '../helpers/expect-code.js';
import { serveDir, type RepoServer } from './repo-server.js';

async function scratch(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'edgeseal-fetch-'));
  await mkdir(join(dir, 'repo', 'metadata'), { recursive: true });
  await writeFile(join(dir, 'repo', 'metadata', 'a.json'), 'x'.repeat(100));
  await writeFile(join(dir, 'secret.json'), 'outside');
  return dir;
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => expect.fail('expected a rejection'),
    (err: unknown) => err,
  );
}

describe('tuf fetchers', () => {
  describe('HttpFetcher', () => {
    let dir: string;
    let server: RepoServer;
    let endlessChunks = 0;
    before(async () => {
      dir = await scratch();
      server = await serveDir(join(dir, 'repo'), {
        routes: {
          '/endless': (res) => {
            res.writeHead(200);
            const pump = (): void => {
              endlessChunks++;
              // Node 24 keeps calling write callbacks after the peer left: watch the socket itself.
              if (!res.destroyed && res.socket?.destroyed !== true && endlessChunks < 10_000) res.write(Buffer.alloc(64 * 1024), pump);
            };
            pump();
          },
          '/stall': () => undefined, // never answers
        },
      });
    });
    after(() => server.close());

    it('downloads bytes and reports 404 the way tuf-js expects, to end the root walk', async () => {
      const f = new HttpFetcher();
      expect((await f.downloadBytes(`${server.url}/metadata/a.json`, 1000)).length).to.equal(100);
      const err = await rejection(f.downloadBytes(`${server.url}/metadata/2.root.json`, 1000));
      expect(err).to.be.instanceOf(DownloadHTTPError);
      expect((err as DownloadHTTPError).statusCode).to.equal(404);
    });

    it('aborts a body that passes maxLength mid-stream, without reading the rest', async () => {
      await expectCodeAsync(() => new HttpFetcher().downloadBytes(`${server.url}/endless`, 256 * 1024), 'OVERSIZED');
      await new Promise((r) => setTimeout(r, 100));
      expect(endlessChunks).to.be.below(100);
      await expectCodeAsync(() => new HttpFetcher().downloadFile(`${server.url}/metadata/a.json`, 99, () => Promise.resolve()), 'OVERSIZED');
    });

    it('times out a server that never answers', async () => {
      await expectCodeAsync(() => new HttpFetcher(new HttpTransport({ timeoutMs: 200 })).downloadBytes(`${server.url}/stall`, 1000), 'FETCH_FAILED');
    });

    it('refuses non-http URLs and unreachable servers with codes', async () => {
      await expectCodeAsync(() => new HttpFetcher().downloadBytes('ftp://127.0.0.1/x', 10), 'USAGE');
      const closed = await serveDir(dir);
      await closed.close();
      await expectCodeAsync(() => new HttpFetcher().downloadBytes(`${closed.url}/x`, 10), 'FETCH_FAILED');
    });
  });

  describe('DirFetcher', () => {
    let dir: string;
    let f: DirFetcher;
    const url = (rel: string): string => `${pathToFileURL(join(dir, 'repo')).href}/${rel}`;
    before(async () => {
      dir = await scratch();
      await symlink(join(dir, 'secret.json'), join(dir, 'repo', 'metadata', 'link.json'));
      await symlink(dir, join(dir, 'repo', 'metadata', 'up'));
      f = new DirFetcher([join(dir, 'repo')]);
    });

    it('reads files inside its root, capped', async () => {
      expect((await f.downloadBytes(url('metadata/a.json'), 100)).length).to.equal(100);
      await expectCodeAsync(() => f.downloadBytes(url('metadata/a.json'), 99), 'OVERSIZED');
    });

    it('answers a missing file like an HTTP 404', async () => {
      const err = await rejection(f.downloadBytes(url('metadata/9.root.json'), 100));
      expect((err as DownloadHTTPError).statusCode).to.equal(404);
    });

    it('refuses escapes, symlinked files and symlinked directories', async () => {
      await expectCodeAsync(() => f.downloadBytes(url('../secret.json'), 100), 'UNSAFE_PATH');
      await expectCodeAsync(() => f.downloadBytes(url('metadata/%2e%2e/%2e%2e/secret.json'), 100), 'UNSAFE_PATH');
      await expectCodeAsync(() => f.downloadBytes(url('metadata/..%2F..%2Fsecret.json'), 100), 'UNSAFE_PATH');
      await expectCodeAsync(() => f.downloadBytes(url('metadata/link.json'), 100), 'UNSAFE_PATH');
      await expectCodeAsync(() => f.downloadBytes(url('metadata/up/secret.json'), 100), 'UNSAFE_PATH');
      await expectCodeAsync(() => f.downloadBytes('http://127.0.0.1/x', 100), 'UNSAFE_PATH');
    });
  });
});
