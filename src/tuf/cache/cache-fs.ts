import { mkdir, open, rename, rm, symlink } from 'node:fs/promises';

// The filesystem steps of refresh-and-promote, behind one small port so a test can record their order
// (writes, fsyncs, renames) and a crash test can stop between any two of them.
export interface CacheFs {
  mkdir(path: string): Promise<void>;
  // creates a new file (never through an existing name or link) and writes it; durability is a separate fsync
  writeFile(path: string, data: Uint8Array): Promise<void>;
  // fsync of a file or a directory (a directory's fsync makes its entries durable)
  fsync(path: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  symlink(target: string, path: string): Promise<void>;
  remove(path: string): Promise<void>;
}

export const nodeCacheFs: CacheFs = {
  mkdir: async (path) => void (await mkdir(path, { recursive: true })),
  async writeFile(path, data) {
    const fh = await open(path, 'wx', 0o644);
    try {
      await fh.writeFile(data);
    } finally {
      await fh.close();
    }
  },
  async fsync(path) {
    const fh = await open(path, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  },
  rename: (from, to) => rename(from, to),
  symlink: (target, path) => symlink(target, path),
  remove: (path) => rm(path, { recursive: true, force: true }),
};

export type CacheFsOp = readonly [op: keyof CacheFs, path: string, to?: string];

// Wraps a CacheFs and appends every call to `log` before running it (tests of the write order).
export function recordingCacheFs(base: CacheFs, log: CacheFsOp[]): CacheFs {
  return {
    mkdir(p) {
      log.push(['mkdir', p]);
      return base.mkdir(p);
    },
    writeFile(p, d) {
      log.push(['writeFile', p]);
      return base.writeFile(p, d);
    },
    fsync(p) {
      log.push(['fsync', p]);
      return base.fsync(p);
    },
    rename(f, t) {
      log.push(['rename', f, t]);
      return base.rename(f, t);
    },
    symlink(t, p) {
      log.push(['symlink', p, t]);
      return base.symlink(t, p);
    },
    remove(p) {
      log.push(['remove', p]);
      return base.remove(p);
    },
  };
}
