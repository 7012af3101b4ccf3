import { readFile, stat, statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { EdgesealError } from '../core/errors.js';

// How many bytes a slot can hold. A block device stats as 0 bytes, so its size comes from sysfs
// (/sys/dev/block/MAJ:MIN/size, in 512-byte sectors whatever the logical block size); the sysfs root
// is a parameter so tests can point it at a fake tree.

// Linux's dev_t split (glibc gnu_dev_major/minor), on the bigint st_rdev.
export function deviceNumbers(rdev: bigint): { readonly major: number; readonly minor: number } {
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & ~0xffn);
  return { major: Number(major), minor: Number(minor) };
}

// The size of block device MAJ:MIN in bytes, from `<sysfsRoot>/dev/block/MAJ:MIN/size`.
export async function sysfsBlockBytes(sysfsRoot: string, major: number, minor: number): Promise<number> {
  const path = `${sysfsRoot}/dev/block/${major}:${minor}/size`;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new EdgesealError('STORAGE_ERROR', `${path}: expected the device's size in sectors, found ${(err as Error).message}`, { cause: err });
  }
  if (!/^\d+\n?$/.test(text)) throw new EdgesealError('STORAGE_ERROR', `${path}: expected a sector count, found ${JSON.stringify(text.slice(0, 40))}`);
  return Number(text.trim()) * 512;
}

// A partition slot's size: sysfs for a block device, the file's size for a stand-in file (tests).
export async function partitionBytes(path: string, sysfsRoot = '/sys'): Promise<number> {
  const st = await stat(path, { bigint: true });
  if (!st.isBlockDevice()) return Number(st.size);
  const { major, minor } = deviceNumbers(st.rdev);
  return sysfsBlockBytes(sysfsRoot, major, minor);
}

// A file slot's room: free space on its filesystem (for the unprivileged agent) plus the file it replaces.
export async function fileSlotBytes(path: string): Promise<number> {
  const fs = await statfs(dirname(path));
  const current = await stat(path).then(
    (s) => s.size,
    () => 0,
  );
  return fs.bavail * fs.bsize + current;
}
