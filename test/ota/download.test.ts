import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { mkdtemp, mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { downloadTarget, type DownloadProgress } from '../../src/ota/download.js';
import { partPath, publishedTargetPath, type TargetRef } from '../../src/ota/target-path.js';
import { expectCode, expectCodeAsync } from '../helpers/expect-code.js';
import { startRangeServer, type RangeServer, type RangeServerOptions } from './range-server.js';

// Deterministic pseudo-random bytes from a sha256 stream (spans several 1 MiB chunks).
function imageBytes(seed: string, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0, off = 0; off < length; i++) off += createHash('sha256').update(`${seed}:${i}`).digest().copy(out, off);
  return out;
}

const IMAGE = imageBytes('fw-2.0.0', 3 * 1024 * 1024 + 123);
const TARGET: TargetRef = { name: 'fw/board-a/fw.bin', length: IMAGE.length, sha256: createHash('sha256').update(IMAGE).digest('hex') };
const URL_PATH = `/repo/targets/${publishedTargetPath(TARGET)}`;

describe('OTA download', () => {
  let server: RangeServer | undefined;
  let staging: string;

  beforeEach(async () => {
    staging = await mkdtemp(join(tmpdir(), 'es-dl-'));
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function serve(body: Uint8Array, opts: RangeServerOptions = {}): Promise<RangeServer> {
    server = await startRangeServer({ [URL_PATH]: body }, opts);
    return server;
  }

  it('names files by digest and refuses unsafe target names', () => {
    expect(publishedTargetPath(TARGET)).to.equal(`fw/board-a/${TARGET.sha256}.fw.bin`);
    expect(partPath('/s', TARGET)).to.equal(`/s/${TARGET.sha256}.fw.bin.part`);
    for (const name of ['../etc/passwd', '/abs', 'a//b', 'a/./b', 'a\\b', '']) expectCode(() => publishedTargetPath({ ...TARGET, name }), 'UNSAFE_PATH');
    expectCode(() => partPath('/s', { ...TARGET, sha256: 'XYZ' }), 'MALFORMED_METADATA');
  });

  it('downloads over HTTP into the .part file, reports progress, and verifies it', async () => {
    const srv = await serve(IMAGE);
    const progress: DownloadProgress[] = [];
    const part = await downloadTarget({ source: { kind: 'http', baseUrl: srv.baseUrl }, target: TARGET, stagingDir: staging, onProgress: (p) => progress.push(p) });
    expect(part).to.equal(partPath(staging, TARGET));
    expect((await readFile(part)).equals(IMAGE)).to.be.true;
    expect(srv.requests).to.deep.equal([{ path: URL_PATH, range: undefined }]);
    expect(progress.at(-1)).to.deep.equal({ received: IMAGE.length, total: IMAGE.length, resumedFrom: 0 });
    expect(progress.map((p) => p.received)).to.satisfy((r: number[]) => r.every((v, i) => i === 0 || v > (r[i - 1] ?? 0)));
  });

  it('keeps the .part when the connection drops midway and resumes it with a Range request', async () => {
    const srv = await serve(IMAGE, { dropAfter: 1_000_000 });
    const req = { source: { kind: 'http', baseUrl: srv.baseUrl }, target: TARGET, stagingDir: staging, attempts: 1 } as const;
    await expectCodeAsync(() => downloadTarget(req), 'FETCH_FAILED');
    const kept = (await stat(partPath(staging, TARGET))).size;
    expect(kept).to.be.greaterThan(0).and.lessThan(IMAGE.length);
    const progress: DownloadProgress[] = [];
    const part = await downloadTarget({ ...req, onProgress: (p) => progress.push(p) });
    expect((await readFile(part)).equals(IMAGE)).to.be.true;
    expect(srv.requests.map((r) => r.range)).to.deep.equal([undefined, `bytes=${kept}-`]);
    expect(progress[0]?.resumedFrom).to.equal(kept);
  });

  it('resumes automatically within one call when attempts allow', async () => {
    const srv = await serve(IMAGE, { dropAfter: 500_000 });
    const part = await downloadTarget({ source: { kind: 'http', baseUrl: srv.baseUrl }, target: TARGET, stagingDir: staging, attempts: 2, retryDelayMs: 0 });
    expect((await readFile(part)).equals(IMAGE)).to.be.true;
    expect(srv.requests).to.have.length(2);
    expect(srv.requests[1]?.range).to.match(/^bytes=\d+-$/);
  });

  it('starts over when the server ignores Range and answers 200', async () => {
    await writeFile(partPath(staging, TARGET), IMAGE.subarray(0, 4096));
    const srv = await serve(IMAGE, { honourRange: false });
    const part = await downloadTarget({ source: { kind: 'http', baseUrl: srv.baseUrl }, target: TARGET, stagingDir: staging });
    expect((await readFile(part)).equals(IMAGE)).to.be.true;
    expect(srv.requests[0]?.range).to.equal('bytes=4096-');
  });

  it('refuses LENGTH_MISMATCH when the server announces more than the signed length, and discards the .part', async () => {
    const srv = await serve(IMAGE, { lieLength: IMAGE.length + 1 });
    await expectCodeAsync(() => downloadTarget({ source: { kind: 'http', baseUrl: srv.baseUrl }, target: TARGET, stagingDir: staging }), 'LENGTH_MISMATCH');
    expect(await readdir(staging)).to.deep.equal([]);
  });

  it('aborts mid-stream with LENGTH_MISMATCH when an unannounced body runs past the signed length', async () => {
    const srv = await serve(IMAGE, { chunkedExtra: 5 * 1024 * 1024 });
    let maxSeen = 0;
    const onProgress = (p: DownloadProgress): void => void (maxSeen = Math.max(maxSeen, p.received));
    await expectCodeAsync(() => downloadTarget({ source: { kind: 'http', baseUrl: srv.baseUrl }, target: TARGET, stagingDir: staging, onProgress }), 'LENGTH_MISMATCH');
    expect(maxSeen).to.be.at.most(IMAGE.length);
    expect(await readdir(staging)).to.deep.equal([]);
  });

  it('refuses LENGTH_MISMATCH for a complete but short file, and for HTTP 416 on a resume, discarding the .part', async () => {
    const short = IMAGE.subarray(0, 2_000_000);
    const srv = await serve(short);
    const req = { source: { kind: 'http', baseUrl: srv.baseUrl }, target: TARGET, stagingDir: staging, attempts: 1 } as const;
    await expectCodeAsync(() => downloadTarget(req), 'LENGTH_MISMATCH');
    expect(await readdir(staging)).to.deep.equal([]);
    await writeFile(partPath(staging, TARGET), IMAGE.subarray(0, 2_500_000));
    await expectCodeAsync(() => downloadTarget(req), 'LENGTH_MISMATCH');
    expect(srv.requests.at(-1)?.range).to.equal('bytes=2500000-');
    expect(await readdir(staging)).to.deep.equal([]);
  });

  it('refuses DIGEST_MISMATCH for right-length wrong bytes and discards the .part', async () => {
    const evil = Buffer.from(IMAGE);
    evil[evil.length - 1] ^= 1;
    const srv = await serve(evil);
    await expectCodeAsync(() => downloadTarget({ source: { kind: 'http', baseUrl: srv.baseUrl }, target: TARGET, stagingDir: staging }), 'DIGEST_MISMATCH');
    expect(await readdir(staging)).to.deep.equal([]);
  });

  it('a corrupted .part fails verification once, then a fresh download succeeds', async () => {
    await writeFile(partPath(staging, TARGET), Buffer.alloc(10_000, 0xee));
    const srv = await serve(IMAGE);
    const req = { source: { kind: 'http', baseUrl: srv.baseUrl }, target: TARGET, stagingDir: staging } as const;
    await expectCodeAsync(() => downloadTarget(req), 'DIGEST_MISMATCH');
    expect((await readFile(await downloadTarget(req))).equals(IMAGE)).to.be.true;
  });

  it('reports FETCH_FAILED for a missing file and an unreachable server', async () => {
    const srv = await serve(IMAGE);
    await expectCodeAsync(() => downloadTarget({ source: { kind: 'http', baseUrl: srv.baseUrl }, target: { ...TARGET, name: 'other.bin' }, stagingDir: staging, attempts: 1 }), 'FETCH_FAILED');
    const base = srv.baseUrl;
    await srv.close();
    server = undefined;
    await expectCodeAsync(() => downloadTarget({ source: { kind: 'http', baseUrl: base }, target: TARGET, stagingDir: staging, attempts: 1 }), 'FETCH_FAILED');
  });

  it('stops on abort without retrying and keeps the .part for later', async () => {
    const srv = await serve(IMAGE);
    const ctl = new AbortController();
    const onProgress = (p: DownloadProgress): void => void (p.received >= 1_000_000 && ctl.abort());
    await expectCodeAsync(() => downloadTarget({ source: { kind: 'http', baseUrl: srv.baseUrl }, target: TARGET, stagingDir: staging, signal: ctl.signal, onProgress, retryDelayMs: 0 }), 'FETCH_FAILED');
    expect(srv.requests).to.have.length(1);
    expect((await stat(partPath(staging, TARGET))).size).to.be.within(1, IMAGE.length - 1);
  });

  describe('from a local directory (USB stick)', () => {
    async function usb(body: Uint8Array): Promise<string> {
      const root = await mkdtemp(join(tmpdir(), 'es-usb-'));
      const file = join(root, 'targets', publishedTargetPath(TARGET));
      await mkdir(join(file, '..'), { recursive: true });
      await writeFile(file, body);
      return root;
    }

    it('copies and verifies, resuming a partial .part from its offset', async () => {
      const root = await usb(IMAGE);
      await writeFile(partPath(staging, TARGET), IMAGE.subarray(0, 2_000_000));
      const progress: DownloadProgress[] = [];
      const part = await downloadTarget({ source: { kind: 'dir', path: root }, target: TARGET, stagingDir: staging, onProgress: (p) => progress.push(p) });
      expect((await readFile(part)).equals(IMAGE)).to.be.true;
      expect(progress[0]).to.include({ resumedFrom: 2_000_000 });
    });

    it('refuses a file of the wrong size before reading it, and a missing one', async () => {
      const root = await usb(Buffer.concat([IMAGE, Buffer.from('x')]));
      await expectCodeAsync(() => downloadTarget({ source: { kind: 'dir', path: root }, target: TARGET, stagingDir: staging }), 'LENGTH_MISMATCH');
      await expectCodeAsync(() => downloadTarget({ source: { kind: 'dir', path: join(root, 'nope') }, target: TARGET, stagingDir: staging, attempts: 1 }), 'FETCH_FAILED');
    });
  });
});
