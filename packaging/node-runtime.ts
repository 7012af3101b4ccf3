import { execFile } from 'node:child_process';
import { access, chmod, copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { EdgesealError } from '../src/core/errors.js';

const run = promisify(execFile);

// The Node.js runtime a device tarball carries: bin/node and its LICENSE from the npm package
// node-linux-<arch> (the registry the project already uses; nothing downloaded from elsewhere).
export const NODE_RUNTIME_VERSION = '24.22.3';
export const ARCHES = ['x64', 'arm64'] as const;
export type Arch = (typeof ARCHES)[number];

const TRIPLET: Record<Arch, string> = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu' };

// node-linux-<arch>-<version>.tgz in `cacheDir`, fetched once with `npm pack`.
async function runtimeTarball(arch: Arch, version: string, cacheDir: string): Promise<string> {
  const tgz = join(cacheDir, `node-linux-${arch}-${version}.tgz`);
  if (await access(tgz).then(() => true, () => false)) return tgz;
  await mkdir(cacheDir, { recursive: true });
  await run('npm', ['pack', `node-linux-${arch}@${version}`, '--pack-destination', cacheDir, '--silent'], { maxBuffer: 1 << 20 }).catch((err: unknown) => {
    throw new EdgesealError('PACKAGING_FAILED', `Node.js runtime: expected npm pack node-linux-${arch}@${version} to fetch ${tgz}, found an error: ${(err as Error).message}`, { cause: err });
  });
  return tgz;
}

// Strips the debug info (x64: 127 → 109 MB) with the strip for that architecture: binutils' own
// `strip` only for the host's, `<triplet>-strip` (binutils-aarch64-linux-gnu …) for the other.
async function stripBinary(arch: Arch, file: string): Promise<string | undefined> {
  const candidates = [`${TRIPLET[arch]}-strip`, ...(process.arch === arch ? ['strip'] : [])];
  for (const tool of candidates) {
    if (await run(tool, [file]).then(() => true, () => false)) return tool;
  }
  return undefined;
}

export interface RuntimeResult {
  readonly version: string;
  readonly strippedWith: string | undefined; // undefined: shipped unstripped (no strip for this arch here)
}

// Puts bin/node and LICENSE of node-linux-<arch>@<version> into `dest` (dest/bin/node, dest/LICENSE).
export async function installNodeRuntime(arch: Arch, dest: string, opts: { cacheDir: string; version?: string }): Promise<RuntimeResult> {
  const version = opts.version ?? NODE_RUNTIME_VERSION;
  const tgz = await runtimeTarball(arch, version, opts.cacheDir);
  const unpack = await mkdtemp(join(dest, '..', '.node-unpack-'));
  try {
    await run('tar', ['-xzf', tgz, '-C', unpack, 'package/bin/node', 'package/LICENSE']);
    await mkdir(join(dest, 'bin'), { recursive: true });
    await copyFile(join(unpack, 'package', 'bin', 'node'), join(dest, 'bin', 'node'));
    await chmod(join(dest, 'bin', 'node'), 0o755);
    await copyFile(join(unpack, 'package', 'LICENSE'), join(dest, 'LICENSE'));
  } finally {
    await rm(unpack, { recursive: true, force: true });
  }
  return { version, strippedWith: await stripBinary(arch, join(dest, 'bin', 'node')) };
}
