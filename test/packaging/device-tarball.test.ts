import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { access, mkdir, mkdtemp, readFile, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildPackage, REPO_ROOT } from '../../packaging/build.js';
import { ARCHES, type Arch } from '../../packaging/node-runtime.js';

const run = promisify(execFile);
const exists = (p: string): Promise<boolean> => access(p).then(() => true, () => false);

// The x64 (host) device tarball, unpacked into a temp root, runs with no other Node on PATH: PATH is one
// folder holding only the system tools the launcher and the demo call (swtpm is a system binary).
describe('device tarball (npm run package)', function () {
  this.timeout(120_000);
  const arch = process.arch as Arch;
  let work: string;
  let root: string;
  let env: NodeJS.ProcessEnv;

  before(async function () {
    if (!(ARCHES as readonly string[]).includes(arch)) throw new Error(`no device tarball for host arch ${process.arch}`);
    work = await mkdtemp(join(tmpdir(), 'es-package-'));
    // uncompressed: the test checks the tree, not xz (the release build compresses; docs/packaging.md)
    const pkg = await buildPackage({ arch, outDir: join(work, 'out'), compression: 'none', cacheDir: join(REPO_ROOT, '.package-cache') });
    root = join(work, 'root');
    await mkdir(root);
    await run('tar', ['-xf', pkg.file, '-C', root]);
    const bin = join(work, 'bin');
    await mkdir(bin);
    for (const tool of ['swtpm', 'readlink', 'dirname']) await symlink((await run('sh', ['-c', `command -v ${tool}`])).stdout.trim(), join(bin, tool));
    env = { PATH: bin, HOME: work, LANG: 'C.UTF-8' };
  });
  after(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('lays out /usr/lib/edgeseal, /usr/bin/edgeseal, the units, tmpfiles.d, sysusers.d and udev entries; no dev, peer or native packages', async () => {
    for (const p of ['usr/bin/edgeseal', 'usr/lib/edgeseal/node/bin/node', 'usr/lib/edgeseal/node/LICENSE', 'usr/lib/edgeseal/dist/src/cli/main.js', 'usr/lib/edgeseal/LICENSE', 'usr/lib/systemd/system/edgeseal-agent.service', 'usr/lib/systemd/system/edgeseal-boot-check.service', 'usr/lib/systemd/system/edgeseal-verified.target', 'usr/lib/systemd/system/dev-tpmrm0.device.d/50-edgeseal-timeout.conf', 'usr/lib/tmpfiles.d/edgeseal.conf', 'usr/lib/sysusers.d/edgeseal.conf', 'usr/lib/udev/rules.d/60-edgeseal-tpm.rules', 'usr/lib/udev/rules.d/61-edgeseal-slots.rules']) {
      expect(await exists(join(root, p)), p).to.equal(true);
    }
    const modules = await readdir(join(root, 'usr/lib/edgeseal/node_modules'));
    expect(modules).to.include.members(['tuf-js', 'mqtt', 'tweetnacl', '@tufjs']);
    expect(modules).to.not.include.members(['aedes', 'mocha', 'typescript', 'chai', '@types']);
    expect(await exists(join(root, 'usr/lib/edgeseal/dist/test')), 'no tests').to.equal(false);
    expect(await exists(join(root, 'usr/lib/edgeseal/node/include')), 'no headers').to.equal(false);
    const { stdout } = await run('find', [root, '-name', '*.node', '-o', '-name', 'binding.gyp', '-o', '-name', '*.map']);
    expect(stdout).to.equal('');
    expect(await readFile(join(root, 'usr/lib/tmpfiles.d/edgeseal.conf'), 'utf8')).to.match(/^d \/var\/lib\/edgeseal 0700/m).and.match(/^d \/run\/edgeseal 0700/m);
  });

  it('edgeseal --version runs on the bundled Node with no node on PATH', async () => {
    const found = await run('/bin/sh', ['-c', 'command -v node'], { env }).then(
      (r) => r.stdout,
      (err: { code: number }) => err.code, // command -v fails when there is none (dash: 127)
    );
    expect(found, 'node on the test PATH').to.be.a('number').and.not.equal(0);
    const { stdout } = await run(join(root, 'usr/bin/edgeseal'), ['--version'], { env });
    const { version } = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(stdout.trim()).to.equal(version);
  });

  it('runs the demo from the unpacked root (no embedded broker in the device install: telemetry skipped)', async () => {
    const { stdout } = await run(join(root, 'usr/bin/edgeseal'), ['demo'], { env, maxBuffer: 1 << 20 });
    for (const expected of ['✔ boot verified', '✔ boot committed', 'TPM floors: securityVersion 2', '✘ refused [DIGEST_MISMATCH]', '✘ refused [IMAGE_REVOKED]', 'telemetry: skipped (no MQTT broker; npm install aedes']) {
      expect(stdout).to.contain(expected);
    }
  });
});
