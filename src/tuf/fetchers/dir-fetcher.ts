import { constants } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { DownloadHTTPError } from 'tuf-js/dist/error.js';
import { EdgesealError } from '../../core/errors.js';
import type { RetrievalBounds } from '../../io/retrieval-deadline.js';
import { CappedFetcher } from './capped-fetcher.js';

// Fetcher for a repository on a local directory (USB stick, factory image), addressed by file:// URLs.
// Only regular files inside one of the given roots are served: no '..' escapes, no symlinks anywhere
// below the root, so a crafted stick cannot make the device read outside it.
export class DirFetcher extends CappedFetcher {
  private readonly roots: readonly string[];

  constructor(roots: readonly string[], bounds?: RetrievalBounds) {
    super(bounds);
    this.roots = roots.map((r) => resolve(r));
  }

  protected async open(url: string): Promise<Readable> {
    const path = this.pathFor(url);
    let real: string;
    try {
      real = await realpath(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new DownloadHTTPError(`${path}: not found`, 404);
      throw new EdgesealError('FETCH_FAILED', `${path}: ${(err as Error).message}`, { cause: err });
    }
    const realRoots = await Promise.all(this.roots.map((r) => realpath(r).catch(() => r)));
    const rel = path.slice(this.roots.find((r) => path.startsWith(r + sep))!.length);
    if (!realRoots.some((r) => real === r + rel)) {
      throw new EdgesealError('UNSAFE_PATH', `${path}: expected a plain file inside the repository, found a symlink on the way`);
    }
    // O_NOFOLLOW closes the window between the check above and the open
    const fh = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW).catch((err: unknown) => {
      throw new EdgesealError('UNSAFE_PATH', `${path}: cannot open safely: ${(err as Error).message}`, { cause: err });
    });
    if (!(await fh.stat()).isFile()) {
      await fh.close();
      throw new EdgesealError('UNSAFE_PATH', `${path}: expected a regular file, found another kind of file`);
    }
    return fh.createReadStream({ highWaterMark: 1024 * 1024 });
  }

  private pathFor(url: string): string {
    let path: string;
    try {
      path = resolve(fileURLToPath(url));
    } catch (err) {
      throw new EdgesealError('UNSAFE_PATH', `expected a file:// URL of a plain path, found ${JSON.stringify(url)}`, { cause: err });
    }
    if (path.includes('\0') || !this.roots.some((r) => path.startsWith(r + sep))) {
      throw new EdgesealError('UNSAFE_PATH', `${path}: expected a path inside ${this.roots.join(' or ')}`);
    }
    return path;
  }
}
