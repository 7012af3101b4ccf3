import { readFile } from 'node:fs/promises';
import { createServer as createHttp, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttps } from 'node:https';
import { join, normalize } from 'node:path';
import { freePort } from '../helpers/free-port.js';
import type { TestPki } from '../helpers/test-pki.js';

export interface RepoServer {
  readonly url: string; // http(s)://127.0.0.1:PORT
  readonly requests: string[]; // request paths, in order
  close(): Promise<void>;
}

export interface RepoServerOptions {
  // serve https with a server certificate of `pki`; mutual: require a client certificate under its CA
  readonly tls?: { readonly pki: TestPki; readonly mutual?: boolean };
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
    ? createHttps({ cert: opts.tls.pki.serverCert, key: opts.tls.pki.serverKey, ca: opts.tls.pki.ca, requestCert: opts.tls.mutual === true, rejectUnauthorized: opts.tls.mutual === true }, handler)
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
