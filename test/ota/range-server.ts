import { createServer, type Server } from 'node:http';
import { freePort } from '../helpers/free-port.js';

// A loopback HTTP server for one file, with knobs for the ways real servers and networks misbehave.
export interface RangeServerOptions {
  readonly honourRange?: boolean; // default true
  readonly dropAfter?: number; // first response: destroy the socket after this many body bytes
  readonly lieLength?: number; // announce this Content-Length (and send that many bytes) instead
  readonly chunkedExtra?: number; // send this many extra bytes without any Content-Length
}

export interface RangeServer {
  readonly baseUrl: string;
  readonly requests: { path: string; range: string | undefined }[];
  close(): Promise<void>;
}

export async function startRangeServer(files: Record<string, Uint8Array>, opts: RangeServerOptions = {}): Promise<RangeServer> {
  const requests: RangeServer['requests'] = [];
  let dropped = false;
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(req.url ?? '');
    requests.push({ path, range: req.headers.range });
    const file = files[path];
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    if (opts.chunkedExtra !== undefined) {
      res.writeHead(200);
      res.end(Buffer.concat([file, Buffer.alloc(opts.chunkedExtra, 7)]));
      return;
    }
    if (opts.lieLength !== undefined) {
      res.writeHead(200, { 'content-length': opts.lieLength });
      res.end(Buffer.concat([file, Buffer.alloc(opts.lieLength - file.length, 7)]));
      return;
    }
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = m && opts.honourRange !== false ? Number(m[1]) : 0;
    if (start > 0 && start >= file.length) {
      res.writeHead(416, { 'content-range': `bytes */${file.length}` }).end();
      return;
    }
    const body = file.subarray(start);
    const headers = { 'content-length': body.length, 'accept-ranges': 'bytes' };
    if (start > 0) res.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${file.length - 1}/${file.length}` });
    else res.writeHead(200, headers);
    if (opts.dropAfter !== undefined && !dropped) {
      dropped = true;
      res.write(body.subarray(0, opts.dropAfter), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    res.end(body);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    baseUrl: `http://127.0.0.1:${port}/repo/`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
