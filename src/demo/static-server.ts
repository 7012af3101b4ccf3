import { readFile } from 'node:fs/promises';
import { createServer, type ServerResponse } from 'node:http';
import { join, normalize } from 'node:path';

// A loopback HTTP server for a published repository directory (metadata/ and targets/), with
// `Range: bytes=N-` so downloads resume: the first-run demo's update mirror.
export interface StaticServer {
  readonly url: string;
  close(): Promise<void>;
}

// Lets a caller (a test) take over sending a body, e.g. to cut it short; return true when it did.
export type BodyHook = (path: string, body: Buffer, res: ServerResponse) => boolean;

export async function serveDirectory(root: string, opts: { hook?: BodyHook; onRequest?: (path: string, range: string | undefined) => void } = {}): Promise<StaticServer> {
  const server = createServer((req, res) => {
    // normalize() resolves '..' before the join, so no path leaves root
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://loopback').pathname));
    opts.onRequest?.(path, req.headers.range);
    readFile(join(root, path)).then(
      (file) => {
        const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
        const start = m ? Math.min(Number(m[1]), file.length) : 0;
        const body = file.subarray(start);
        const headers = { 'content-length': body.length, 'accept-ranges': 'bytes' };
        if (start > 0) res.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${file.length - 1}/${file.length}` });
        else res.writeHead(200, headers);
        if (!opts.hook?.(path, body, res)) res.end(body);
      },
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
