import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { freePort } from './free-port.js';

// A small forward proxy on loopback for transport tests: CONNECT tunnels (https) and absolute-form
// GETs (plain http), each recorded, so a test sees which requests went through it. `refuse` answers
// every CONNECT with 403, as a proxy whose ACL denies the destination does.
export interface TestProxy {
  readonly url: string; // http://127.0.0.1:PORT
  readonly tunnels: string[]; // CONNECT authorities, in order
  readonly forwarded: string[]; // absolute-form request URLs, in order
  readonly bytesThrough: () => number; // bytes the tunnels carried towards the client
  close(): Promise<void>;
}

export async function startConnectProxy(opts: { refuse?: boolean } = {}): Promise<TestProxy> {
  const tunnels: string[] = [];
  const forwarded: string[] = [];
  const sockets = new Set<Socket>();
  let bytes = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    forwarded.push(req.url ?? '');
    const upstream = request(req.url ?? '', { method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    tunnels.push(req.url ?? '');
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    if (opts.refuse) {
      client.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    const [host, port] = (req.url ?? '').replace(/^\[(.*)\](:\d+)$/, '$1$2').split(/:(?=\d+$)/);
    const origin = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) origin.write(head);
      origin.on('data', (d: Buffer) => void (bytes += d.length));
      origin.pipe(client);
      client.pipe(origin);
    });
    sockets.add(origin);
    origin.on('close', () => sockets.delete(origin));
    origin.on('error', () => client.destroy());
    client.on('error', () => origin.destroy());
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    tunnels,
    forwarded,
    bytesThrough: () => bytes,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
