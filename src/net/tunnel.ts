import { request } from 'node:http';
import type { Socket } from 'node:net';
import { EdgesealError } from '../core/errors.js';
import { redactUrl } from '../core/redact-url.js';
import { proxyAuth } from './proxy.js';

// Opens a CONNECT tunnel through an http:// proxy to host:port (RFC 9110 §9.3.6) and hands back the
// raw socket: TLS to the origin then runs inside it, so the proxy sees only the encrypted bytes.
export function connectTunnel(proxy: URL, host: string, port: number, timeoutMs: number, signal?: AbortSignal): Promise<Socket> {
  const authority = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const where = `proxy ${redactUrl(proxy.href)}`;
  return new Promise<Socket>((resolve, reject) => {
    const req = request({
      host: proxy.hostname.replace(/^\[|\]$/g, ''),
      port: Number(proxy.port || 80),
      method: 'CONNECT',
      path: authority,
      headers: { host: authority, ...proxyAuth(proxy) },
      agent: false,
      timeout: timeoutMs,
      ...(signal ? { signal } : {}),
    });
    req.on('timeout', () => req.destroy(new EdgesealError('PROXY_FAILED', `${where}: expected an answer to CONNECT ${authority} within ${timeoutMs} ms, found none`)));
    req.on('error', (err) => reject(err instanceof EdgesealError ? err : new EdgesealError('PROXY_FAILED', `${where}: expected to reach the proxy for CONNECT ${authority}, found ${err.message}`, { cause: err })));
    req.on('connect', (res, socket, head) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        reject(new EdgesealError('PROXY_FAILED', `${where}: expected 200 to CONNECT ${authority}, found ${res.statusCode} ${res.statusMessage}`));
        return;
      }
      if (head.length > 0) socket.unshift(head); // bytes the proxy sent past its answer belong to the tunnel
      socket.setTimeout(0);
      resolve(socket);
    });
    req.end();
  });
}
