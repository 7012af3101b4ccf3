import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DownloadProgress } from '../../src/ota/download.js';
import { publishedTargetPath, type TargetRef } from '../../src/ota/target-path.js';
import { expectCode, expectCodeAsync } from '../helpers/expect-code.js';
import { startRangeServer, type RangeServer, type RangeServerOptions } from './range-server.js';
import { streamRig } from './slot-stream.js';

// The transport into the slot: HTTP Range resumes, length caps, aborts. (stream-install.test.ts: the
// slot side — checkpoints, re-hashing, the retry from 0.)

// Deterministic pseudo-random bytes from a sha256 stream (spans several 1 MiB chunks).
function imageBytes(seed: string, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0, off = 0; off < length; i++) off += createHash('sha256').update(`${seed}:${i}`).digest().copy(out, off);
  return out;
}

const IMAGE = imageBytes('fw-2.0.0', 3 * 1024 * 1024 + 123);
const TARGET: TargetRef = { name: 'fw/board-a/fw.bin', length: IMAGE.length, sha256: createHash('sha256').update(IMAGE).digest('hex') };
const URL_PATH = `/repo/targets/${publishedTargetPath(TARGET)}`;

describe('OTA download into the slot', () => {
  let server: RangeServer | undefined;
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'es-dl-'));
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function serve(body: Uint8Array, opts: RangeServerOptions = {}): Promise<RangeServer> {
    server = await startRangeServer({ [URL_PATH]: body }, opts);
    return server;
  }
  const http = (srv: RangeServer) => ({ kind: 'http', baseUrl: srv.baseUrl }) as const;

  it('names files by digest and refuses unsafe target names', () => {
    expect(publishedTargetPath(TARGET)).to.equal(`fw/board-a/${TARGET.sha256}.fw.bin`);
    for (const name of ['../etc/passwd', '/abs', 'a//b', 'a/./b', 'a\\b', '']) expectCode(() => publishedTargetPath({ ...TARGET, name }), 'UNSAFE_PATH');
    expectCode(() => publishedTargetPath({ ...TARGET, sha256: 'XYZ' }), 'MALFORMED_METADATA');
  });

  it('streams over HTTP into the slot, reports progress, and verifies it', async () => {
    const srv = await serve(IMAGE);
    const rig = await streamRig(dir);
    const progress: DownloadProgress[] = [];
    await rig.run({ source: http(srv), target: TARGET, onProgress: (p) => progress.push(p) });
    expect((await rig.slotBytes()).equals(IMAGE)).to.be.true;
    expect(srv.requests).to.deep.equal([{ path: URL_PATH, range: undefined }]);
    const transfer = progress.filter((p) => p.phase === undefined);
    expect(transfer.at(-1)).to.deep.equal({ received: IMAGE.length, total: IMAGE.length, resumedFrom: 0 });
    expect(transfer.map((p) => p.received)).to.satisfy((r: number[]) => r.every((v, i) => i === 0 || v > (r[i - 1] ?? 0)));
    // then the re-read of the slot, reported as a phase of its own
    expect(progress.slice(transfer.length).map((p) => p.received)).to.deep.equal([1, 2, 3, 4].map((n) => Math.min(n * 1024 * 1024, IMAGE.length)));
    expect(progress.at(-1)).to.deep.equal({ received: IMAGE.length, total: IMAGE.length, resumedFrom: 0, phase: 'verify' });
  });

  it('keeps the journalled offset when the connection drops midway and resumes it with a Range request', async () => {
    const srv = await serve(IMAGE, { dropAfter: 1_000_000 });
    const rig = await streamRig(dir);
    const req = { source: http(srv), target: TARGET, attempts: 1 } as const;
    await expectCodeAsync(() => rig.run(req), 'FETCH_FAILED');
    const kept = rig.offset;
    expect(kept).to.be.greaterThan(0).and.lessThan(IMAGE.length);
    const progress: DownloadProgress[] = [];
    await rig.run({ ...req, onProgress: (p) => progress.push(p) });
    expect((await rig.slotBytes()).equals(IMAGE)).to.be.true;
    expect(srv.requests.map((r) => r.range)).to.deep.equal([undefined, `bytes=${kept}-`]);
    expect(progress[0]?.resumedFrom).to.equal(kept);
  });

  it('resumes automatically within one call when attempts allow', async () => {
    const srv = await serve(IMAGE, { dropAfter: 500_000 });
    const rig = await streamRig(dir);
    await rig.run({ source: http(srv), target: TARGET, attempts: 2, retryDelayMs: 0 });
    expect((await rig.slotBytes()).equals(IMAGE)).to.be.true;
    expect(srv.requests).to.have.length(2);
    expect(srv.requests[1]?.range).to.match(/^bytes=\d+-$/);
  });

  it('starts over at 0 when the server ignores Range and answers 200, journalling offset 0 before rewriting', async () => {
    const rig = await streamRig(dir, { prefix: IMAGE.subarray(0, 4096), offset: 4096 });
    const srv = await serve(IMAGE, { honourRange: false });
    await rig.run({ source: http(srv), target: TARGET });
    expect((await rig.slotBytes()).equals(IMAGE)).to.be.true;
    expect(srv.requests[0]?.range).to.equal('bytes=4096-');
    expect(rig.log.indexOf('checkpoint 0')).to.be.within(0, rig.log.findIndex((l) => l.startsWith('write 0-')));
  });

  it('refuses LENGTH_MISMATCH when the server announces more than the signed length, before writing a byte', async () => {
    const srv = await serve(IMAGE, { lieLength: IMAGE.length + 1 });
    const rig = await streamRig(dir);
    await expectCodeAsync(() => rig.run({ source: http(srv), target: TARGET }), 'LENGTH_MISMATCH');
    expect(rig.log.filter((l) => l.startsWith('write'))).to.deep.equal([]);
  });

  it('aborts mid-stream with LENGTH_MISMATCH when an unannounced body runs past the signed length', async () => {
    const srv = await serve(IMAGE, { chunkedExtra: 5 * 1024 * 1024 });
    const rig = await streamRig(dir);
    let maxSeen = 0;
    const onProgress = (p: DownloadProgress): void => void (maxSeen = Math.max(maxSeen, p.received));
    await expectCodeAsync(() => rig.run({ source: http(srv), target: TARGET, onProgress }), 'LENGTH_MISMATCH');
    expect(maxSeen).to.be.at.most(IMAGE.length);
    expect((await rig.slotBytes()).length).to.be.at.most(IMAGE.length);
  });

  it('refuses LENGTH_MISMATCH for a complete but short file, and for HTTP 416 on a resume', async () => {
    const short = IMAGE.subarray(0, 2_000_000);
    const srv = await serve(short);
    const req = { source: http(srv), target: TARGET, attempts: 1 } as const;
    await expectCodeAsync(async () => (await streamRig(dir)).run(req), 'LENGTH_MISMATCH');
    const resumed = await streamRig(dir, { prefix: IMAGE.subarray(0, 2_500_000), offset: 2_500_000 });
    await expectCodeAsync(() => resumed.run(req), 'LENGTH_MISMATCH');
    expect(srv.requests.at(-1)?.range).to.equal('bytes=2500000-');
  });

  it('refuses DIGEST_MISMATCH for right-length wrong bytes streamed from 0, without a retry', async () => {
    const evil = Buffer.from(IMAGE);
    evil[evil.length - 1] ^= 1;
    const srv = await serve(evil);
    const rig = await streamRig(dir);
    await expectCodeAsync(() => rig.run({ source: http(srv), target: TARGET }), 'DIGEST_MISMATCH');
    expect(srv.requests).to.have.length(1);
    expect(rig.log.filter((l) => l.startsWith('open'))).to.deep.equal(['open fresh']);
  });

  it('reports FETCH_FAILED for a missing file and an unreachable server', async () => {
    const srv = await serve(IMAGE);
    const rig = await streamRig(dir);
    await expectCodeAsync(() => rig.run({ source: http(srv), target: { ...TARGET, name: 'other.bin' }, attempts: 1 }), 'FETCH_FAILED');
    const base = srv.baseUrl;
    await srv.close();
    server = undefined;
    await expectCodeAsync(() => rig.run({ source: { kind: 'http', baseUrl: base }, target: TARGET, attempts: 1 }), 'FETCH_FAILED');
  });

  it('stops on abort without retrying and keeps the written prefix for later', async () => {
    const srv = await serve(IMAGE);
    const ctl = new AbortController();
    const rig = await streamRig(dir);
    const onProgress = (p: DownloadProgress): void => void (p.received >= 1_000_000 && ctl.abort());
    await expectCodeAsync(() => rig.run({ source: http(srv), target: TARGET, signal: ctl.signal, onProgress, retryDelayMs: 0 }), 'FETCH_FAILED');
    expect(srv.requests).to.have.length(1);
    expect(rig.offset).to.be.within(1, IMAGE.length - 1);
    expect((await rig.slotBytes()).subarray(0, rig.offset).equals(IMAGE.subarray(0, rig.offset))).to.be.true;
  });

  describe('from a local directory (USB stick)', () => {
    async function usb(body: Uint8Array): Promise<string> {
      const root = await mkdtemp(join(tmpdir(), 'es-usb-'));
      const file = join(root, 'targets', publishedTargetPath(TARGET));
      await mkdir(join(file, '..'), { recursive: true });
      await writeFile(file, body);
      return root;
    }

    it('streams and verifies, resuming at the journalled offset by re-hashing the slot prefix', async () => {
      const root = await usb(IMAGE);
      const rig = await streamRig(dir, { prefix: IMAGE.subarray(0, 2_000_000), offset: 2_000_000 });
      const progress: DownloadProgress[] = [];
      await rig.run({ source: { kind: 'dir', path: root }, target: TARGET, onProgress: (p) => progress.push(p) });
      expect((await rig.slotBytes()).equals(IMAGE)).to.be.true;
      expect(progress[0]).to.include({ resumedFrom: 2_000_000 });
      expect(rig.log[0]).to.equal('open resume');
      expect(rig.log[1]).to.equal('write 2000000-3048576');
    });

    it('refuses a file of the wrong size before reading it, and a missing one', async () => {
      const root = await usb(Buffer.concat([IMAGE, Buffer.from('x')]));
      const rig = await streamRig(dir);
      await expectCodeAsync(() => rig.run({ source: { kind: 'dir', path: root }, target: TARGET }), 'LENGTH_MISMATCH');
      await expectCodeAsync(() => rig.run({ source: { kind: 'dir', path: join(root, 'nope') }, target: TARGET, attempts: 1 }), 'FETCH_FAILED');
    });
  });
});
