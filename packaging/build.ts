import { execFile } from 'node:child_process';
import { chmod, cp, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { asEdgesealError, EdgesealError } from '../src/core/errors.js';
import { ARCHES, installNodeRuntime, type Arch, type RuntimeResult } from './node-runtime.js';
import { copyProductionModules } from './prod-modules.js';

const run = promisify(execFile);

// `npm run package`: one self-contained tarball per architecture, unpacked with `tar -x -C /`:
//   usr/lib/edgeseal/{bin/edgeseal, node/, dist/src/, node_modules/, firmware-fixtures/…, package.json}
//   usr/bin/edgeseal → ../lib/edgeseal/bin/edgeseal, usr/lib/systemd/system/*.service,
//   usr/lib/{tmpfiles.d,sysusers.d}/edgeseal.conf, usr/lib/udev/rules.d/{60-edgeseal-tpm,61-edgeseal-slots}.rules
// docs/packaging.md describes the layout and the steps after unpacking.

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FILES = join(REPO_ROOT, 'packaging', 'files');
const DEMO_REPOS = ['demo', 'demo-tampered', 'demo-revoked'];
export const COMPRESSIONS = { xz: { ext: '.tar.xz', flag: '-J' }, gz: { ext: '.tar.gz', flag: '-z' }, none: { ext: '.tar', flag: undefined } } as const;
export type Compression = keyof typeof COMPRESSIONS;

export interface PackageOptions {
  readonly arch: Arch;
  readonly outDir: string;
  readonly compression: Compression;
  readonly cacheDir: string; // where the node-linux-<arch> tarballs are kept between builds
}

export interface PackageResult {
  readonly file: string;
  readonly bytes: number;
  readonly installedBytes: number;
  readonly runtime: RuntimeResult;
  readonly modules: number;
}

async function installedSize(root: string): Promise<number> {
  const { stdout } = await run('du', ['-sb', root]);
  return Number(stdout.split('\t')[0]);
}

// The device tree under `root` (as it will sit under /).
async function stage(root: string, opts: PackageOptions): Promise<{ runtime: RuntimeResult; modules: number }> {
  const lib = join(root, 'usr', 'lib', 'edgeseal');
  const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { name: string; version: string; license: string; type: string };
  await mkdir(join(lib, 'bin'), { recursive: true });
  // version (edgeseal --version) and "type": "module" for dist/src; nothing else of the dev manifest
  await writeFile(join(lib, 'package.json'), `${JSON.stringify({ name: pkg.name, version: pkg.version, license: pkg.license, type: pkg.type, private: true }, null, 2)}\n`);
  await cp(join(REPO_ROOT, 'dist', 'src'), join(lib, 'dist', 'src'), { recursive: true, filter: (src) => !src.endsWith('.map') });
  for (const repo of DEMO_REPOS) await cp(join(REPO_ROOT, 'firmware-fixtures', 'out', 'repos', repo), join(lib, 'firmware-fixtures', 'out', 'repos', repo), { recursive: true });
  for (const f of ['LICENSE', 'SECURITY.md', 'README.md']) await cp(join(REPO_ROOT, f), join(lib, f));
  const modules = await copyProductionModules(REPO_ROOT, lib);
  const runtime = await installNodeRuntime(opts.arch, join(lib, 'node'), { cacheDir: opts.cacheDir });
  await cp(join(FILES, 'edgeseal'), join(lib, 'bin', 'edgeseal'));
  await chmod(join(lib, 'bin', 'edgeseal'), 0o755);
  await mkdir(join(root, 'usr', 'bin'), { recursive: true });
  await symlink('../lib/edgeseal/bin/edgeseal', join(root, 'usr', 'bin', 'edgeseal'));
  await cp(join(REPO_ROOT, 'systemd'), join(root, 'usr', 'lib', 'systemd', 'system'), { recursive: true });
  await cp(join(FILES, 'tmpfiles.conf'), join(root, 'usr', 'lib', 'tmpfiles.d', 'edgeseal.conf'));
  await cp(join(FILES, 'sysusers.conf'), join(root, 'usr', 'lib', 'sysusers.d', 'edgeseal.conf'));
  await cp(join(FILES, 'udev.rules'), join(root, 'usr', 'lib', 'udev', 'rules.d', '60-edgeseal-tpm.rules'));
  await cp(join(FILES, 'udev-slots.rules'), join(root, 'usr', 'lib', 'udev', 'rules.d', '61-edgeseal-slots.rules'));
  return { runtime, modules };
}

// Builds edgeseal-<version>-linux-<arch>.tar[.xz|.gz] in opts.outDir (owned by root, sorted, fixed mtime).
export async function buildPackage(opts: PackageOptions): Promise<PackageResult> {
  await stat(join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js')).catch((err: unknown) => {
    throw new EdgesealError('PACKAGING_FAILED', `expected the built agent at dist/src/cli/main.js, found none: run npm run build first`, { cause: err });
  });
  const { version } = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
  const work = await mkdtemp(join(tmpdir(), 'edgeseal-package-'));
  try {
    const root = join(work, 'root');
    const { runtime, modules } = await stage(root, opts);
    await mkdir(opts.outDir, { recursive: true });
    const { ext, flag } = COMPRESSIONS[opts.compression];
    const file = join(opts.outDir, `edgeseal-${version}-linux-${opts.arch}${ext}`);
    const mtime = process.env.SOURCE_DATE_EPOCH ?? String(Math.floor(Date.now() / 1000));
    const args = ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', `--mtime=@${mtime}`, ...(flag ? [flag] : []), '-cf', file, '-C', root, 'usr'];
    await run('tar', args, { env: { ...process.env, XZ_OPT: '-6 -T0' } });
    return { file, bytes: (await stat(file)).size, installedBytes: await installedSize(root), runtime, modules };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

const USAGE = `usage: node dist/packaging/build.js [--arch x64,arm64] [--out dist/packages] [--compression xz|gz|none]

Builds one self-contained device tarball per architecture (docs/packaging.md): the built agent, its
production node_modules, Node.js from the npm package node-linux-<arch>, systemd units, tmpfiles.d,
sysusers.d and udev entries. Unpack with: tar -x -C / -f edgeseal-<version>-linux-<arch>.tar.xz`;

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { arch: { type: 'string', default: ARCHES.join(',') }, out: { type: 'string', default: join(REPO_ROOT, 'dist', 'packages') }, compression: { type: 'string', default: 'xz' }, help: { type: 'boolean' } } });
  if (values.help) return (console.log(USAGE), 0);
  const arches = values.arch.split(',');
  const bad = arches.filter((a) => !(ARCHES as readonly string[]).includes(a));
  if (bad.length || !(values.compression in COMPRESSIONS)) {
    throw new EdgesealError('USAGE', `expected --arch from ${ARCHES.join(',')} and --compression xz|gz|none, found --arch ${values.arch} --compression ${values.compression}\n${USAGE}`);
  }
  for (const arch of arches as Arch[]) {
    const r = await buildPackage({ arch, outDir: values.out, compression: values.compression as Compression, cacheDir: join(REPO_ROOT, '.package-cache') });
    const mb = (n: number): string => `${(n / 1e6).toFixed(1)} MB`;
    console.log(`${r.file}: ${mb(r.bytes)}, installed ${mb(r.installedBytes)}; node ${r.runtime.version} ${r.runtime.strippedWith ? `stripped (${r.runtime.strippedWith})` : 'NOT stripped (no strip for this arch: apt-get install binutils-aarch64-linux-gnu)'}, ${r.modules} production packages`);
  }
  return 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2)).catch((err: unknown) => {
    const e = asEdgesealError(err, 'USAGE');
    console.error(`npm run package: error [${e.code}]: ${e.message}`);
    return e.code === 'USAGE' ? 2 : 1;
  });
}
