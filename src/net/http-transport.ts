import { request as httpRequest, type ClientRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { isIP } from 'node:net';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { EdgesealError } from '../core/errors.js';
import { redactUrl } from '../core/redact-url.js';
import { NO_PROXY_SETTINGS, proxyAuth, proxyFor, type ProxySettings } from './proxy.js';
import { RateLimiter, throttle } from './throttle.js';
import { classifyTlsError } from './tls-error.js';
import { connectTunnel } from './tunnel.js';

// The one HTTP(S) client of the update path: metadata refresh (tuf-js fetcher), target download and the
// revocation list all go through it, so private CA, client certificate, proxy and bandwidth cap apply
// alike. GET only; redirects are not followed (a mirror is configured, not discovered).

export interface TlsOptions {
  readonly ca?: string | Buffer; // PEM bundle to trust instead of the system store (private PKI)
  readonly cert?: string | Buffer; // client certificate for mutual TLS
  readonly key?: string | Buffer;
  readonly rejectUnauthorized?: boolean; // default true; false only for lab setups
}

export interface TransportOptions {
  readonly tls?: TlsOptions;
  readonly proxy?: ProxySettings; // default: none (the agent passes update.proxy or the environment)
  readonly maxBytesPerSecond?: number; // bandwidth cap over all transfers of this transport
  readonly timeoutMs?: number; // connect and idle timeout, default 30 s
  readonly userAgent?: string;
  readonly limiter?: RateLimiter; // tests inject a clock through it
}

export interface HttpResponse {
  readonly status: number;
  readonly statusText: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Readable; // destroy it to stop the transfer
}

// A TCP or TLS socket read at most this much at a time: the bandwidth cap can hold one such chunk.
const MAX_SOCKET_CHUNK = 64 * 1024;

export class HttpTransport {
  readonly #limiter: RateLimiter | undefined;

  constructor(private readonly opts: TransportOptions = {}) {
    this.#limiter = opts.limiter ?? (opts.maxBytesPerSecond ? new RateLimiter(opts.maxBytesPerSecond) : undefined);
  }

  // GET `url`; resolves with the response head, whatever the status, once the server answers.
  get(url: URL, headers: Readonly<Record<string, string>> = {}, signal?: AbortSignal): Promise<HttpResponse> {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new EdgesealError('USAGE', `expected an http(s) URL, found ${JSON.stringify(url.href)}`);
    const timeout = (this.opts.timeoutMs ?? 30_000) + (this.#limiter?.holdMs(MAX_SOCKET_CHUNK) ?? 0);
    const proxy = proxyFor(url, this.opts.proxy ?? NO_PROXY_SETTINGS);
    const all = { 'user-agent': this.opts.userAgent ?? 'edgeseal', ...headers };
    return new Promise<HttpResponse>((resolve, reject) => {
      const req = this.#open(url, proxy, all, timeout, signal);
      req.on('timeout', () => req.destroy(new EdgesealError('FETCH_FAILED', `${url.href}: no data for ${timeout} ms`)));
      req.on('error', (err) => reject(this.#failure(err, url, proxy, (req.socket as TLSSocket | null)?.authorized === true)));
      req.on('response', (res: IncomingMessage) => {
        res.on('error', () => undefined); // surfaced by the reader; avoids an unhandled 'error' event
        const body = this.#limiter ? pipeline(res, throttle(this.#limiter, signal), () => undefined) : res;
        resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', headers: res.headers, body });
      });
      req.end();
    });
  }

  #open(url: URL, proxy: URL | undefined, headers: Record<string, string>, timeout: number, signal?: AbortSignal): ClientRequest {
    const base = { method: 'GET', headers, timeout, ...(signal ? { signal } : {}) };
    if (url.protocol === 'http:') {
      // through a proxy, plain http is an absolute-form request to the proxy (RFC 9112 §3.2.2)
      if (!proxy) return httpRequest(url, base);
      return httpRequest({ ...base, host: proxy.hostname, port: Number(proxy.port || 80), path: url.href, headers: { ...headers, host: url.host, ...proxyAuth(proxy) } });
    }
    const tls = { ca: this.opts.tls?.ca, cert: this.opts.tls?.cert, key: this.opts.tls?.key, rejectUnauthorized: this.opts.tls?.rejectUnauthorized ?? true };
    if (!proxy) return httpsRequest(url, { ...base, ...tls });
    // https through a proxy: CONNECT, then TLS with the origin inside the tunnel
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const createConnection: NonNullable<RequestOptions['createConnection']> = (_, done) => {
      const fail = (err: unknown): void => (done as (e: Error) => void)(err as Error); // Node ignores the socket argument on error
      connectTunnel(proxy, host, Number(url.port || 443), timeout, signal).then((raw) => {
        const socket = tlsConnect({ socket: raw, host, ...tls, ...(isIP(host) ? {} : { servername: host }) });
        socket.once('error', fail);
        socket.once('secureConnect', () => {
          socket.off('error', fail); // from here the request listens to its socket
          done(null, socket);
        });
      }, fail);
      return undefined;
    };
    return httpsRequest(url, { ...base, createConnection });
  }

  #failure(err: Error, url: URL, proxy: URL | undefined, handshakeDone: boolean): EdgesealError {
    if (err instanceof EdgesealError) return err;
    const ctx = { url, privateCa: this.opts.tls?.ca !== undefined, clientCert: this.opts.tls?.cert !== undefined, handshakeDone };
    const tls = url.protocol === 'https:' ? classifyTlsError(err, ctx) : undefined;
    if (tls) return tls;
    const via = proxy ? ` via proxy ${redactUrl(proxy.href)}` : '';
    return new EdgesealError('FETCH_FAILED', `${url.href}${via}: ${err.message}`, { cause: err });
  }
}
