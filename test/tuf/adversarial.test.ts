import { expect } from 'chai';
import { mkdir, mkdtemp, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ErrorCode } from '../../src/core/errors.js';
import { loadTrustedMetadata } from '../../src/tuf/offline/load-trusted.js';
import { parseMetadata } from '../../src/tuf/offline/parse.js';
import type { MetadataFiles } from '../../src/tuf/offline/types.js';
import { verifyImage } from '../../src/tuf/offline/verify-image.js';
import { fromTufError } from '../../src/tuf/tuf-errors.js';
import { createDeviceUpdater, initMetadataDir, sourceAt } from '../../src/tuf/updater.js';
import { expectCode, expectCodeAsync } from '../helpers/expect-code.js';
import { addImage, after, editJson, imageOf, newRepo, publishedFiles, resign, sha256Hex, T0 } from '../helpers/tuf-repo.js';
import { publishTestRepo } from './published.js';
import { serveDir } from './repo-server.js';

const now = after(0.5);
const { repo, keys } = newRepo();
addImage(repo, 'fw.bin', imageOf('fw'));
repo.sign(T0);
const good: MetadataFiles = publishedFiles(repo);
const load = (files: Partial<MetadataFiles>): unknown => loadTrustedMetadata({ ...good, ...files }, { now, expiry: 'enforce' });
const bytes = (s: string): Uint8Array => Buffer.from(s);

describe('tuf adversarial inputs', () => {
  describe('metadata the offline verifier must refuse with a code, never crash on', () => {
    const rootCases: [string, Uint8Array, ErrorCode][] = [
      ['truncated JSON', good.initialRoot.subarray(0, 100), 'MALFORMED_METADATA'],
      ['not JSON at all', bytes('\u0000\u0001garbage'), 'MALFORMED_METADATA'],
      ['a JSON array', bytes('[]'), 'MALFORMED_METADATA'],
      ['JSON null', bytes('null'), 'MALFORMED_METADATA'],
      ['deeply nested arrays', bytes(`${'['.repeat(100_000)}${']'.repeat(100_000)}`), 'MALFORMED_METADATA'],
      ['signed missing', bytes('{"signatures":[]}'), 'MALFORMED_METADATA'],
      ['timestamp bytes offered as root', good.timestamp, 'MALFORMED_METADATA'],
      ['version as a string', editJson(good.initialRoot, (e) => void (e.signed.version = '1')), 'MALFORMED_METADATA'],
      ['version zero', editJson(good.initialRoot, (e) => void (e.signed.version = 0)), 'MALFORMED_METADATA'],
      ['fractional version', editJson(good.initialRoot, (e) => void (e.signed.version = 1.5)), 'MALFORMED_METADATA'],
      ['expires not a date', editJson(good.initialRoot, (e) => void (e.signed.expires = 'soon')), 'MALFORMED_METADATA'],
      ['signatures not a list', editJson(good.initialRoot, (e) => void (e.signatures = {} as never)), 'MALFORMED_METADATA'],
      ['threshold as a string', editJson(good.initialRoot, (e) => void ((e.signed.roles as Record<string, { threshold: unknown }>).root.threshold = '1')), 'MALFORMED_METADATA'],
      ['threshold zero', editJson(good.initialRoot, (e) => void ((e.signed.roles as Record<string, { threshold: unknown }>).root.threshold = 0)), 'MALFORMED_METADATA'],
      ['keys not an object', editJson(good.initialRoot, (e) => void (e.signed.keys = 'k')), 'MALFORMED_METADATA'],
      ['an unknown key type', resign(good.initialRoot, (s) => setAllKeys(s, { keytype: 'dsa' }), keys.root), 'MALFORMED_METADATA'],
      ['a scheme that does not fit the key type', resign(good.initialRoot, (s) => setAllKeys(s, { scheme: 'rsassa-pss-sha256' }), keys.root), 'MALFORMED_METADATA'],
      ['a public key that is not hex', resign(good.initialRoot, (s) => setAllKeys(s, { keyval: { public: 'zz' } }), keys.root), 'MALFORMED_METADATA'],
      ['two signatures from one key', editJson(good.initialRoot, (e) => e.signatures.push({ ...e.signatures[0] })), 'MALFORMED_METADATA'],
      ['a signature that is not hex', editJson(good.initialRoot, (e) => void (e.signatures[0].sig = 'not-hex')), 'SIGNATURE_THRESHOLD'],
      ['oversized', Buffer.concat([good.initialRoot, Buffer.alloc(600_000, 0x20)]), 'OVERSIZED'],
    ];
    for (const [what, initialRoot, code] of rootCases) {
      it(`root with ${what} → ${code}`, () => {
        expectCode(() => load({ initialRoot }), code);
      });
    }

    it('caps every role before parsing it', () => {
      const pad = (b: Uint8Array, n: number): Uint8Array => Buffer.concat([b, Buffer.alloc(n, 0x20)]);
      expectCode(() => load({ timestamp: pad(good.timestamp, 16_384) }), 'OVERSIZED');
      expectCode(() => load({ snapshot: pad(good.snapshot, 2_000_000) }), 'OVERSIZED');
      expectCode(() => load({ targets: pad(good.targets, 5_000_000) }), 'OVERSIZED');
      expectCode(() => load({ rootChain: [pad(good.initialRoot, 512_000)] }), 'OVERSIZED');
      expectCode(() => parseMetadata('timestamp', pad(good.timestamp, 16_384), 16_384, 'timestamp'), 'OVERSIZED');
    });

    it('refuses a timestamp with wrong types and a targets entry with a negative length', () => {
      expectCode(() => load({ timestamp: editJson(good.timestamp, (e) => void (e.signed.meta = [])) }), 'MALFORMED_METADATA');
      const targets = resign(good.targets, (s) => void ((s as unknown as { targets: Record<string, { length: number }> }).targets['fw.bin'].length = -1), keys.targets);
      expectCode(() => load({ targets }), 'MALFORMED_METADATA');
    });

    it('turns hostile target names and bad custom fields into verdicts, not exceptions', () => {
      const img = imageOf('fw');
      const targets = resign(good.targets, (s) => {
        const t = (s as unknown as { targets: Record<string, unknown> }).targets;
        t['../../etc/passwd'] = { length: img.length, hashes: { sha256: sha256Hex(img) }, custom: { hardwareIds: 'board-a' } };
      }, keys.targets);
      const trusted = loadTrustedMetadata({ ...good, targets }, { now, expiry: 'enforce' });
      const ev = { observed: { length: img.length, sha256: sha256Hex(img) }, hardwareId: 'board-a', now };
      const v = verifyImage(trusted, { targetName: '../../etc/passwd', ...ev });
      expect(v.ok ? 'VERIFIED' : v.code).to.equal('MALFORMED_METADATA');
      for (const name of ['/fw.bin', 'fw.bin\u0000', '']) {
        const r = verifyImage(trusted, { targetName: name, ...ev });
        expect(r.ok ? 'VERIFIED' : r.code, JSON.stringify(name)).to.equal('UNKNOWN_TARGET');
      }
    });
  });

  describe('downloads never write outside the target dir', () => {
    it('refuses target names with "..", absolute paths and NUL bytes, and a symlink in the target dir', async () => {
      const published = await publishTestRepo();
      const server = await serveDir(published.dir);
      try {
        const work = await mkdtemp(join(tmpdir(), 'edgeseal-adv-'));
        const targetDir = join(work, 'deep', 'targets');
        await mkdir(targetDir, { recursive: true });
        await writeFile(join(work, 'outside.txt'), 'untouched');
        await initMetadataDir(join(work, 'md'), await readFile(join(published.dir, 'metadata', '1.root.json')));
        const client = createDeviceUpdater({ metadataDir: join(work, 'md'), source: sourceAt(server.url) });
        await client.refresh();
        for (const name of ['../outside.txt', '../../outside.txt', '/etc/passwd', 'apps/\u0000app.bin', '..', 'a/./b']) {
          await expectCodeAsync(() => client.download(name, targetDir), 'UNSAFE_PATH');
        }
        await symlink(join(work, 'outside.txt'), join(targetDir, encodeURIComponent('apps/app.bin')));
        await expectCodeAsync(() => client.download('apps/app.bin', targetDir), 'UNSAFE_PATH');
        expect(await readFile(join(work, 'outside.txt'), 'utf8')).to.equal('untouched');
        expect((await readdir(work)).sort()).to.deep.equal(['deep', 'md', 'outside.txt']);
        expect(await readdir(targetDir)).to.deep.equal([encodeURIComponent('apps/app.bin')]);
      } finally {
        await server.close();
      }
    });
  });

  it('maps tuf-js and @tufjs/models errors onto our codes', () => {
    class ExpiredMetadataError extends Error {}
    class UnsignedMetadataError extends Error {}
    class RuntimeError extends Error {}
    expect(fromTufError(new ExpiredMetadataError('x')).code).to.equal('EXPIRED');
    expect(fromTufError(new UnsignedMetadataError('x')).code).to.equal('SIGNATURE_THRESHOLD');
    expect(fromTufError(new RuntimeError('Unable to load snapshot metadata error Error: Expected hash a but got b')).code).to.equal('DIGEST_MISMATCH');
    expect(fromTufError(new RuntimeError('Unable to load targets error Error: targets was signed by 0/1 keys')).code).to.equal('SIGNATURE_THRESHOLD');
    expect(fromTufError(new SyntaxError('Unexpected token')).code).to.equal('MALFORMED_METADATA');
    expect(fromTufError(Object.assign(new Error('no root.json'), { code: 'ENOENT' })).code).to.equal('STORAGE_ERROR');
    expect(fromTufError('a string').code).to.equal('INTERNAL');
  });
});

function setAllKeys(signed: object, patch: Record<string, unknown>): void {
  const keys = (signed as { keys: Record<string, Record<string, unknown>> }).keys;
  for (const id of Object.keys(keys)) Object.assign(keys[id], patch);
}
