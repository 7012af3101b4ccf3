import { cp, readdir, readFile } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import { EdgesealError } from '../src/core/errors.js';

// The device's node_modules: exactly the packages package-lock.json marks as production (not dev, peer or
// optional), copied from the tree `npm ci` installed from that same lock (so no registry access here),
// without what no device executes, and refused if any of it is native code.

interface LockEntry {
  readonly version?: string;
  readonly dev?: boolean;
  readonly peer?: boolean;
  readonly optional?: boolean;
  readonly devOptional?: boolean;
}

// Packages that hold type declarations only: never loaded at run time.
const TYPES_ONLY = /(^|\/)(@types\/[^/]+|undici-types)$/;
// Files and folders nothing loads on a device (licence texts stay, whatever their extension).
const LICENSE = /^(licen[cs]e|notice|copying)/i;
const DROP_FILE = /\.(d\.[cm]?ts|map|md|markdown)$/i;
const DROP_DIR = new Set(['.github']);
// Per-package folders that only browsers use: mqtt's exports send Node to build/, browsers to dist/.
const DROP_PACKAGE_DIR: Readonly<Record<string, string>> = { 'node_modules/mqtt': 'dist' };

export function productionEntries(lock: { packages: Record<string, LockEntry> }): string[] {
  return Object.entries(lock.packages)
    .filter(([path, e]) => path.startsWith('node_modules/') && !e.dev && !e.peer && !e.optional && !e.devOptional)
    .map(([path]) => path)
    .filter((path) => !TYPES_ONLY.test(path))
    .sort();
}

function keep(entry: string, entryDir: string, src: string): boolean {
  const rel = relative(entryDir, src);
  const name = basename(src);
  if (rel === 'node_modules' || rel === DROP_PACKAGE_DIR[entry]) return false; // nested packages are entries of their own
  if (DROP_DIR.has(name)) return false;
  return LICENSE.test(name) || !DROP_FILE.test(name);
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const d of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, d.name);
    if (d.isDirectory()) out.push(...(await walk(p)));
    else out.push(p);
  }
  return out;
}

// Copies the production packages of `repoRoot` into `dest` (dest/node_modules/…); returns how many.
export async function copyProductionModules(repoRoot: string, dest: string): Promise<number> {
  const lock = JSON.parse(await readFile(join(repoRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const entries = productionEntries(lock);
  for (const entry of entries) {
    const from = join(repoRoot, entry);
    const installed = await readFile(join(from, 'package.json'), 'utf8').then((t) => (JSON.parse(t) as { version?: string }).version, () => undefined);
    const locked = lock.packages[entry]?.version;
    if (installed !== locked) {
      throw new EdgesealError('PACKAGING_FAILED', `${entry}: expected version ${locked ?? '?'} (package-lock.json) installed, found ${installed ?? 'none'}: run npm ci first`);
    }
    await cp(from, join(dest, entry), { recursive: true, filter: (src) => keep(entry, from, src) });
  }
  // a device install compiles nothing and loads no addon: refuse the package if native code slipped in
  const native = (await walk(join(dest, 'node_modules'))).filter((f) => f.endsWith('.node') || basename(f) === 'binding.gyp');
  if (native.length) {
    throw new EdgesealError('PACKAGING_FAILED', `device node_modules: expected no native code, found ${native.map((f) => relative(dest, f).split(sep).join('/')).join(', ')}`);
  }
  return entries.length;
}
