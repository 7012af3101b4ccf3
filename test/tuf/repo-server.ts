import { readFile } from 'node:fs/promises';
import { createServer as createHttp, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttps } from 'node:https';
import { join, normalize } from 'node:path';
import { freePort } from '../helpers/free-port.js';
import { TEST_PKI } from './test-pki.js';

export interface RepoServer {
  readonly url: string; // http(s)://127.0.0.1:PORT
  readonly requests: string[]; // request paths, in order
  close(): Promise<void>;
}

export interface RepoServerOptions {
  readonly tls?: boolean | 'mutual'; // serve https with the test PKI; 'mutual' requires a client cert
  // custom responses by path, for misbehaving servers (endless bodies, stalls)
  readonly routes?: Record<string, (res: ServerResponse) => void>;
}

// A loopback static server over a directory, read per request so tests can tamper with it live.
export async function serveDir(root: string, opts: RepoServerOptions = {}): Promise<RepoServer> {
  const requests: string[] = [];
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(path);
    const route = opts.routes?.[path];
    if (route) return route(res);
    const file = join(root, normalize(path).replace(/^(\.\.[/\\])+/, ''));
    readFile(file).then(
      (body) => res.writeHead(200, { 'content-length': body.length }).end(body),
      () => res.writeHead(404).end(),
    );
  };
  const server: Server = opts.tls
    ? createHttps({ cert: TEST_PKI.serverCert, key: TEST_PKI.serverKey, ca: TEST_PKI.ca, requestCert: opts.tls === 'mutual', rejectUnauthorized: opts.tls === 'mutual' }, handler)
    : createHttp(handler);
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
