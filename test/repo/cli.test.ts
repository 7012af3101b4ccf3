import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EXIT } from '../../src/cli/command.js';
import { generateKey } from '../../src/crypto/ed25519.js';
import { writePrivateKeyFile, writePublicKeyFile } from '../../src/crypto/key-store.js';
import { edgeseal, readRoot, readSnapshot, readTargets, readTimestamp, TARGET_ARGS, tempDir, writeImage } from './cli-helpers.js';

const NOW = '2026-03-01T00:00:00Z';
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('edgeseal repo (CLI end to end)', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let dir: string;
  let out: string;
  beforeEach(async () => {
    tmp = await tempDir();
    dir = join(tmp.path, 'work');
    out = join(tmp.path, 'pub');
  });
  afterEach(() => tmp.cleanup());

  async function ok(...argv: string[]): Promise<string[]> {
    const r = await edgeseal(...argv);
    expect(r.err, r.err.join('\n')).to.deep.equal([]);
    expect(r.code).to.equal(EXIT.OK);
    return r.out;
  }

  it('init → add-target → delegate → publish writes a repository that verifies with @tufjs/models', async () => {
    const fw = await writeImage(join(tmp.path, 'fw.bin'), 70_000, 7);
    const app = await writeImage(join(tmp.path, 'app.tar'), 3_000, 9);
    await ok('repo', 'init', '--dir', dir, '--keys', 'targets=2', '--threshold', 'targets=2', '--expires', 'timestamp=2');
    expect((await stat(join(dir, 'keys'))).isDirectory()).to.equal(true);
    for (const f of await readdir(join(dir, 'keys'))) expect((await stat(join(dir, 'keys', f))).mode & 0o777, f).to.equal(0o600);
    await ok('repo', 'add-target', join(tmp.path, 'fw.bin'), '--dir', dir, '--name', 'fw/board-a/fw.bin', ...TARGET_ARGS, '--slot', 'b');
    await ok('repo', 'delegate', '--dir', dir, '--role', 'builder', '--path', 'apps/*');
    await ok('repo', 'add-target', join(tmp.path, 'app.tar'), '--dir', dir, '--name', 'apps/app.tar', '--role', 'builder', '--hardware-id', 'board-a', '--hardware-id', 'board-b', '--version', '0.1.0', '--security-version', '0', '--kind', 'app');
    const lines = await ok('repo', 'publish', '--dir', dir, '--out', out, '--now', NOW);
    expect(lines.at(-1)).to.match(/5 metadata files, 2 targets copied/);

    const md = join(out, 'metadata');
    expect((await readdir(md)).sort()).to.deep.equal(['1.builder.json', '1.root.json', '1.snapshot.json', '1.targets.json', 'timestamp.json']);
    const root = await readRoot(join(md, '1.root.json'));
    root.verifyDelegate('root', root);
    const targets = await readTargets(join(md, '1.targets.json'));
    root.verifyDelegate('targets', targets);
    expect(Object.keys(targets.signatures)).to.have.length(2);
    targets.verifyDelegate('builder', await readTargets(join(md, '1.builder.json')));
    const snapshot = await readSnapshot(join(md, '1.snapshot.json'));
    root.verifyDelegate('snapshot', snapshot);
    expect(Object.keys(snapshot.signed.meta).sort()).to.deep.equal(['builder.json', 'targets.json']);
    const timestamp = await readTimestamp(join(md, 'timestamp.json'));
    root.verifyDelegate('timestamp', timestamp);
    timestamp.signed.snapshotMeta.verify(await readFile(join(md, '1.snapshot.json')));
    expect(timestamp.signed.expires).to.equal('2026-03-03T00:00:00Z');

    const entry = targets.signed.targets['fw/board-a/fw.bin'];
    expect(entry.custom).to.deep.equal({ hardwareIds: ['board-a'], version: '1.0.0', securityVersion: 1, kind: 'firmware', slot: 'b' });
    const published = await readFile(join(out, 'targets/fw/board-a', `${sha(fw)}.fw.bin`));
    expect(entry.hashes.sha256).to.equal(sha(published));
    expect(published.equals(fw)).to.equal(true);
    expect((await readFile(join(out, 'targets/apps', `${sha(app)}.app.tar`))).equals(app)).to.equal(true);
  });

  it('add-target on a name that lists other bytes refuses without --replace and says what devices will see', async () => {
    await writeImage(join(tmp.path, 'v1.bin'), 1000, 1);
    await writeImage(join(tmp.path, 'v2.bin'), 1200, 2);
    await ok('repo', 'init', '--dir', dir);
    const name = 'firmware/board-a/fw.bin';
    await ok('repo', 'add-target', join(tmp.path, 'v1.bin'), '--dir', dir, '--name', name, ...TARGET_ARGS);
    await ok('repo', 'add-target', join(tmp.path, 'v1.bin'), '--dir', dir, '--name', name, ...TARGET_ARGS); // the same bytes again: a no-op
    const refused = await edgeseal('repo', 'add-target', join(tmp.path, 'v2.bin'), '--dir', dir, '--name', name, ...TARGET_ARGS);
    expect(refused.code).to.equal(EXIT.USAGE);
    expect(refused.err[0]).to.contain('[USAGE]').and.contain('expected a new name or --replace').and.contain('1000 bytes');
    const replaced = await ok('repo', 'add-target', join(tmp.path, 'v2.bin'), '--dir', dir, '--name', name, ...TARGET_ARGS, '--replace');
    expect(replaced.join('\n')).to.contain('devices still running the old bytes keep booting them');
    expect(replaced.join('\n')).to.contain('edgeseal repo revoke');
  });

  it('rotate-key says that rotation does not revoke, with the revoke command for each removed key', async () => {
    await ok('repo', 'init', '--dir', dir);
    const before = JSON.parse(await readFile(join(dir, 'repo.json'), 'utf8')) as { root: { signed: { roles: { targets: { keyids: string[] } } } } };
    const old = before.root.signed.roles.targets.keyids[0];
    const out = await ok('repo', 'rotate-key', 'targets', '--dir', dir);
    expect(out).to.include('rotation does not revoke: images signed by a removed key still boot on devices that run them (docs/installed-images.md)');
    expect(out.join('\n')).to.contain(`edgeseal repo revoke --dir ${dir} --key ${old}`);
  });

  it('rotate-key root and targets: 2.root.json chains from 1.root.json and targets v2 verifies under it', async () => {
    await writeImage(join(tmp.path, 'fw.bin'), 1000, 1);
    await ok('repo', 'init', '--dir', dir);
    await ok('repo', 'add-target', join(tmp.path, 'fw.bin'), '--dir', dir, '--name', 'fw.bin', ...TARGET_ARGS);
    await ok('repo', 'publish', '--dir', dir, '--out', out, '--now', NOW);
    await ok('repo', 'rotate-key', 'root', '--dir', dir);
    await ok('repo', 'rotate-key', 'targets', '--dir', dir, '--generate', '2', '--threshold', '2');
    const signed = await ok('repo', 'publish', '--dir', dir, '--out', out, '--now', NOW);
    expect(signed.filter((l) => l.startsWith('signed')).map((l) => l.split(/\s+/).slice(1, 3).join('@'))).to.deep.equal(['root@v2', 'targets@v2', 'snapshot@v2', 'timestamp@v2']);
    const md = join(out, 'metadata');
    const v1 = await readRoot(join(md, '1.root.json'));
    const v2 = await readRoot(join(md, '2.root.json'));
    // Client workflow 5.3.4: the new root is signed by a threshold of the old root's keys and of its own.
    v1.verifyDelegate('root', v2);
    v2.verifyDelegate('root', v2);
    expect(Object.keys(v2.signed.keys)).not.to.include.members(v1.signed.roles.root.keyIDs);
    const t2 = await readTargets(join(md, '2.targets.json'));
    v2.verifyDelegate('targets', t2);
    expect(() => v1.verifyDelegate('targets', t2)).to.throw();
  });

  it('status shows versions, expiry countdown, thresholds, key ids and unsigned changes', async () => {
    await ok('repo', 'init', '--dir', dir, '--keys', 'root=3', '--threshold', 'root=2');
    const before = await ok('repo', 'status', '--dir', dir);
    expect(before.find((l) => l.startsWith('root'))).to.match(/unsigned .* 2\/3 .*\[unsigned changes\]/);
    await ok('repo', 'sign', '--dir', dir, '--now', NOW);
    const after = await ok('repo', 'status', '--dir', dir, '--now', '2026-03-01T06:00:00Z');
    expect(after.find((l) => l.startsWith('timestamp'))).to.match(/^timestamp\s+v1\s+2026-03-02T00:00:00Z \(in 18h\)\s+1\/1/);
    const json = JSON.parse((await ok('repo', 'status', '--dir', dir, '--json', '--now', '2026-03-03T00:00:00Z')).join('\n')) as { role: string; expiresInSeconds: number; keyids: string[] }[];
    expect(json.find((s) => s.role === 'timestamp')!.expiresInSeconds).to.equal(-86400);
    expect(json.find((s) => s.role === 'root')!.keyids).to.have.length(3);
    expect((await ok('repo', 'status', '--dir', dir, '--now', '2026-03-03T00:00:00Z')).join('\n')).to.contain('EXPIRED 1d ago');
    expect(await ok('repo', 'sign', '--dir', dir, '--now', NOW)).to.deep.equal(['nothing to sign: no role has unsigned changes']);
    expect((await ok('repo', 'sign', '--dir', dir, '--now', NOW, '--refresh', 'timestamp')).join()).to.match(/^signed timestamp\s+v2/);
  });

  it('remove-target drops the target from the next published targets version', async () => {
    await writeImage(join(tmp.path, 'a.bin'), 10, 1);
    await ok('repo', 'init', '--dir', dir);
    await ok('repo', 'add-target', join(tmp.path, 'a.bin'), '--dir', dir, '--name', 'a.bin', ...TARGET_ARGS);
    await ok('repo', 'publish', '--dir', dir, '--out', out, '--now', NOW);
    await ok('repo', 'remove-target', '--dir', dir, '--name', 'a.bin');
    await ok('repo', 'publish', '--dir', dir, '--out', out, '--now', NOW);
    expect((await readTargets(join(out, 'metadata/2.targets.json'))).signed.targets).to.deep.equal({});
  });

  it('a builder keeping its own key: publish needs --key with its private key file, and is idempotent', async () => {
    const builder = generateKey();
    await writePublicKeyFile(join(tmp.path, 'builder.pub.json'), builder);
    await writePrivateKeyFile(join(tmp.path, 'builder.key.json'), builder);
    await writeImage(join(tmp.path, 'app.tar'), 500, 2);
    await ok('repo', 'init', '--dir', dir);
    await ok('repo', 'delegate', '--dir', dir, '--role', 'builder', '--path', 'apps/*', '--key-file', join(tmp.path, 'builder.pub.json'));
    await ok('repo', 'add-target', join(tmp.path, 'app.tar'), '--dir', dir, '--name', 'apps/app.tar', '--role', 'builder', ...TARGET_ARGS);
    const refused = await edgeseal('repo', 'publish', '--dir', dir, '--out', out, '--now', NOW);
    expect(refused.code).to.equal(EXIT.REFUSED);
    expect(refused.err.join()).to.match(/\[SIGNATURE_THRESHOLD\].*builder/);
    expect(await readdir(tmp.path)).to.not.include('pub');
    await ok('repo', 'publish', '--dir', dir, '--out', out, '--now', NOW, '--key', join(tmp.path, 'builder.key.json'));
    const again = await ok('repo', 'publish', '--dir', dir, '--out', out, '--now', NOW);
    expect(again).to.deep.equal([`published to ${out}: 5 metadata files, 0 targets copied (0 bytes), 1 unchanged`]);
  });

  it('refuses a corrupted workdir state with MALFORMED_METADATA', async () => {
    await ok('repo', 'init', '--dir', dir);
    await ok('repo', 'sign', '--dir', dir, '--now', NOW);
    const state = JSON.parse(await readFile(join(dir, 'repo.json'), 'utf8')) as { targets: { signed: { version: unknown } } };
    state.targets.signed.version = 'one';
    await writeFile(join(dir, 'repo.json'), JSON.stringify(state));
    const r = await edgeseal('repo', 'status', '--dir', dir);
    expect(r.err.join()).to.contain('[MALFORMED_METADATA]');
    await writeFile(join(dir, 'repo.json'), '{"format":');
    expect((await edgeseal('repo', 'status', '--dir', dir)).err.join()).to.contain('[MALFORMED_METADATA]');
  });

  it('encrypted keys: --encrypt needs a passphrase; signing without it says PASSPHRASE_REQUIRED', async () => {
    const saved = process.env.EDGESEAL_PASSPHRASE;
    try {
      delete process.env.EDGESEAL_PASSPHRASE;
      const refused = await edgeseal('repo', 'init', '--dir', dir, '--encrypt');
      expect(refused.code).to.equal(EXIT.USAGE);
      expect(refused.err.join()).to.contain('[PASSPHRASE_REQUIRED]');
      process.env.EDGESEAL_PASSPHRASE = 'test passphrase';
      await ok('repo', 'init', '--dir', dir, '--encrypt');
      const keyFile = (await readdir(join(dir, 'keys')))[0];
      expect(JSON.parse(await readFile(join(dir, 'keys', keyFile), 'utf8'))).to.have.property('encrypted');
      delete process.env.EDGESEAL_PASSPHRASE;
      const noPass = await edgeseal('repo', 'sign', '--dir', dir);
      expect(noPass.err.join()).to.contain('[PASSPHRASE_REQUIRED]');
      process.env.EDGESEAL_PASSPHRASE = 'wrong';
      expect((await edgeseal('repo', 'sign', '--dir', dir)).err.join()).to.contain('[KEY_INVALID]');
      process.env.EDGESEAL_PASSPHRASE = 'test passphrase';
      expect(await ok('repo', 'sign', '--dir', dir)).to.have.length(4);
    } finally {
      if (saved === undefined) delete process.env.EDGESEAL_PASSPHRASE;
      else process.env.EDGESEAL_PASSPHRASE = saved;
    }
  });

  describe('bad input', () => {
    beforeEach(async () => {
      await writeImage(join(tmp.path, 'fw.bin'), 100, 3);
      await ok('repo', 'init', '--dir', dir);
    });

    for (const name of ['../escape.bin', 'a/../../escape.bin', '/etc/passwd', 'nul\0byte.bin', 'a//b.bin']) {
      it(`refuses target name ${JSON.stringify(name)} with UNSAFE_PATH and writes nothing`, async () => {
        const r = await edgeseal('repo', 'add-target', join(tmp.path, 'fw.bin'), '--dir', dir, '--name', name, ...TARGET_ARGS);
        expect(r.code).to.equal(EXIT.REFUSED);
        expect(r.err).to.have.length(1);
        expect(r.err[0]).to.match(/^edgeseal repo add-target: error \[UNSAFE_PATH\]/);
        expect(await readdir(dir)).to.not.include('blobs');
      });
    }

    it('refuses a symlink where the image file is expected', async () => {
      await symlink(join(tmp.path, 'fw.bin'), join(tmp.path, 'link.bin'));
      const r = await edgeseal('repo', 'add-target', join(tmp.path, 'link.bin'), '--dir', dir, '--name', 'fw.bin', ...TARGET_ARGS);
      expect(r.err.join()).to.contain('[UNSAFE_PATH]');
    });

    it('never writes outside --out, even through a symlinked directory inside it', async () => {
      const outside = join(tmp.path, 'outside');
      await mkdir(outside);
      await mkdir(out);
      await symlink(outside, join(out, 'targets'));
      await ok('repo', 'add-target', join(tmp.path, 'fw.bin'), '--dir', dir, '--name', 'fw.bin', ...TARGET_ARGS);
      const r = await edgeseal('repo', 'publish', '--dir', dir, '--out', out, '--now', NOW);
      expect(r.err.join()).to.contain('[UNSAFE_PATH]');
      expect(await readdir(outside)).to.deep.equal([]);
    });

    it('answers usage mistakes with exit 2 and one line, never a stack trace', async () => {
      const cases: [string[], string][] = [
        [['repo', 'init', '--dir', dir], 'USAGE'],
        [['repo', 'add-target', '--dir', dir, '--name', 'x'], 'USAGE'],
        [['repo', 'add-target', join(tmp.path, 'fw.bin'), '--dir', dir, '--name', 'x', ...TARGET_ARGS.slice(0, -1), 'kernel'], 'USAGE'],
        [['repo', 'publish', '--dir', dir], 'USAGE'],
        [['repo', 'status', '--dir', join(tmp.path, 'nowhere')], 'USAGE'],
        [['repo', 'init', '--dir', join(tmp.path, 'x'), '--threshold', 'root=2'], 'USAGE'],
        [['repo', 'sign', '--dir', dir, '--bogus'], 'USAGE'],
        [['repo', 'rotate-key', 'nobody', '--dir', dir], 'USAGE'],
      ];
      for (const [argv, code] of cases) {
        const r = await edgeseal(...argv);
        expect(r.code, argv.join(' ')).to.equal(EXIT.USAGE);
        expect(r.err, argv.join(' ')).to.have.length(1);
        expect(r.err[0]).to.contain(`[${code}]`);
      }
    });

    it('refuses a delegated role signing outside its paths with DELEGATION_VIOLATION', async () => {
      await ok('repo', 'delegate', '--dir', dir, '--role', 'builder', '--path', 'apps/*');
      const r = await edgeseal('repo', 'add-target', join(tmp.path, 'fw.bin'), '--dir', dir, '--name', 'fw/evil.bin', '--role', 'builder', ...TARGET_ARGS);
      expect(r.err.join()).to.contain('[DELEGATION_VIOLATION]');
      const bad = await edgeseal('repo', 'delegate', '--dir', dir, '--role', '../x', '--path', 'a/*');
      expect(bad.err.join()).to.contain('[UNSAFE_PATH]');
    });
  });
});
