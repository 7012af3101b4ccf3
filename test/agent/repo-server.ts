import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join, normalize } from 'node:path';
import { freePort } from '../helpers/free-port.js';

// Serves a published repository directory on loopback with Range support; the first response for a
// target file can be cut (dropAfter: socket destroyed) or stalled (stallAfter: never finished).
export interface RepoServer {
  readonly url: string;
  readonly requests: { path: string; range: string | undefined }[];
  close(): Promise<void>;
}

export async function serveRepo(root: string, opts: { dropAfter?: number; stallAfter?: number } = {}): Promise<RepoServer> {
  const requests: RepoServer['requests'] = [];
  let misbehaved = false;
  const server: Server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    requests.push({ path, range: req.headers.range });
    readFile(join(root, path)).then(
      (file) => {
        const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
        const start = m ? Number(m[1]) : 0;
        const body = file.subarray(start);
        const headers = { 'content-length': body.length, 'accept-ranges': 'bytes' };
        if (start > 0) res.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${file.length - 1}/${file.length}` });
        else res.writeHead(200, headers);
        const cut = opts.dropAfter ?? opts.stallAfter;
        if (cut !== undefined && !misbehaved && path.startsWith('/targets/')) {
          misbehaved = true;
          res.write(body.subarray(0, cut), () => {
            if (opts.dropAfter !== undefined) setTimeout(() => res.socket?.destroy(), 20);
          });
          return;
        }
        res.end(body);
      },
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : await freePort();
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
