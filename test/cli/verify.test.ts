import { expect } from 'chai';
import { mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dispatch } from '../../src/cli/dispatch.js';
import type { CliIo } from '../../src/cli/command.js';
import { createDeviceUpdater, initMetadataDir, sourceAt } from '../../src/tuf/updater.js';
import { sha256Hex } from '../helpers/tuf-repo.js';
import { IMAGES, publishTestRepo } from '../tuf/published.js';
import { serveDir } from '../tuf/repo-server.js';

function capture(): CliIo & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, out: (l) => lines.push(l), err: (l) => errors.push(l), isTTY: false };
}

const FW = 'firmware/board-a/fw.bin';

describe('cli verify', () => {
  let published: Awaited<ReturnType<typeof publishTestRepo>>;
  let work: string;
  let image: string;
  const run = async (...args: string[]): Promise<{ code: number; out: string; err: string }> => {
    const io = capture();
    const code = await dispatch(['verify', ...args], io);
    return { code, out: io.lines.join('\n'), err: io.errors.join('\n') };
  };
  const base = (): string[] => ['--metadata', join(published.dir, 'metadata'), '--target', FW, '--hardware-id', 'board-a'];

  before(async () => {
    published = await publishTestRepo();
    work = await mkdtemp(join(tmpdir(), 'edgeseal-verify-'));
    image = join(work, 'fw.bin');
    await writeFile(image, IMAGES[FW]);
  });

  it('prints a verified verdict with target, version, digest, key ids and root version, exit 0', async () => {
    const r = await run(...base(), '--file', image);
    expect(r.code).to.equal(0);
    expect(r.out).to.match(/^VERIFIED firmware\/board-a\/fw\.bin/);
    expect(r.out).to.contain('version   1.0.0').and.contain(sha256Hex(IMAGES[FW])).and.contain('signed by targets:').and.contain('root      version 1');
  });

  it('prints the verdict as JSON with --json', async () => {
    const r = await run(...base(), '--file', image, '--json');
    const v = JSON.parse(r.out) as { ok: boolean; rootVersion: number; observed: { sha256: string } };
    expect(v).to.deep.include({ ok: true, rootVersion: 1 });
    expect(v.observed.sha256).to.equal(sha256Hex(IMAGES[FW]));
  });

  it('refuses tampered, longer, symlinked and foreign-hardware images with exit 1 and the code', async () => {
    const tampered = join(work, 'tampered.bin');
    const bytes = Buffer.from(IMAGES[FW]);
    bytes[7] ^= 1;
    await writeFile(tampered, bytes);
    const longer = join(work, 'longer.bin');
    await writeFile(longer, Buffer.concat([IMAGES[FW], Buffer.alloc(1)]));
    const link = join(work, 'link.bin');
    await symlink(image, link);
    const cases: [string[], string][] = [
      [['--file', tampered], 'DIGEST_MISMATCH'],
      [['--file', longer], 'LENGTH_MISMATCH'],
      [['--file', link], 'UNSAFE_PATH'],
    ];
    for (const [args, code] of cases) {
      const r = await run(...base(), ...args);
      expect(r.code, args.join(' ')).to.equal(1);
      expect(r.out).to.match(new RegExp(`^REFUSED \\[${code}\\]`));
    }
    const foreign = await run('--metadata', join(published.dir, 'metadata'), '--target', FW, '--hardware-id', 'board-z', '--file', image);
    expect(foreign.out).to.match(/^REFUSED \[HARDWARE_MISMATCH\]/);
  });

  it('treats expiry as policy: enforce refuses at a later --now, ignore accepts', async () => {
    const later = new Date(Date.now() + 30 * 86400_000).toISOString();
    expect((await run(...base(), '--file', image, '--now', later)).out).to.match(/^REFUSED \[EXPIRED\]/);
    expect((await run(...base(), '--file', image, '--now', later, '--expiry', 'ignore')).code).to.equal(0);
  });

  it('starts the chain from --initial-root and refuses a malformed one', async () => {
    expect((await run(...base(), '--file', image, '--initial-root', join(published.dir, 'metadata', '1.root.json'))).code).to.equal(0);
    const junk = join(work, 'junk.json');
    await writeFile(junk, '{"signed": 1');
    expect((await run(...base(), '--file', image, '--initial-root', junk)).out).to.match(/^REFUSED \[MALFORMED_METADATA\]/);
  });

  it('verifies from a device metadata cache written by the updater', async () => {
    const server = await serveDir(published.dir);
    try {
      const metadataDir = join(work, 'cache');
      await initMetadataDir(metadataDir, await readFile(join(published.dir, 'metadata', '1.root.json')), true);
      await createDeviceUpdater({ metadataDir, source: sourceAt(server.url), keepRootHistory: true }).refresh();
      expect((await run('--metadata', metadataDir, '--target', FW, '--file', image)).code).to.equal(0);
    } finally {
      await server.close();
    }
  });

  it('answers bad arguments with usage exit 2 and one line, never a stack trace', async () => {
    const missing = await run('--metadata', join(published.dir, 'metadata'), '--target', FW);
    expect(missing.code).to.equal(2);
    expect(missing.err).to.contain('--file is required').and.not.contain('    at ');
    expect((await run(...base(), '--file', image, '--now', 'yesterday')).code).to.equal(2);
    expect((await run(...base(), '--file', image, '--expiry', 'sometimes')).code).to.equal(2);
    expect((await run(...base(), '--file', image, '--floor', 'targets=x')).code).to.equal(2);
  });

  it('holds metadata to --floor versions (anti-rollback)', async () => {
    expect((await run(...base(), '--file', image, '--floor', 'targets=1', '--floor', 'root=1')).code).to.equal(0);
    expect((await run(...base(), '--file', image, '--floor', 'targets=3')).out).to.match(/^REFUSED \[ROLLBACK\]/);
  });
});
