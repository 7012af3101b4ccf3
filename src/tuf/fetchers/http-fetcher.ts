import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { DownloadHTTPError } from 'tuf-js/dist/error.js';
import { EdgesealError } from '../../core/errors.js';
import type { RetrievalBounds } from '../../io/retrieval-deadline.js';
import { CappedFetcher } from './capped-fetcher.js';

export interface HttpFetcherOptions {
  readonly ca?: string | Buffer; // PEM bundle to trust instead of the system store (private PKI)
  readonly cert?: string | Buffer; // client certificate for mutual TLS
  readonly key?: string | Buffer;
  readonly rejectUnauthorized?: boolean; // default true; false only for lab setups
  readonly timeoutMs?: number; // connect and idle timeout, default 30 s
  readonly userAgent?: string;
}

// HTTP(S) fetcher for repository mirrors. Redirects are not followed (a mirror is configured, not
// discovered); 403/404 become tuf-js DownloadHTTPError so the root walk (5.3.3) knows when to stop.
export class HttpFetcher extends CappedFetcher {
  constructor(
    private readonly opts: HttpFetcherOptions = {},
    bounds?: RetrievalBounds,
  ) {
    super(bounds);
  }

  protected open(url: string, signal?: AbortSignal): Promise<Readable> {
    const u = parseHttpUrl(url);
    const request = u.protocol === 'https:' ? httpsRequest : httpRequest;
    const timeout = this.opts.timeoutMs ?? 30_000;
    return new Promise<IncomingMessage>((resolve, reject) => {
      const req = request(u, {
        method: 'GET',
        headers: { 'user-agent': this.opts.userAgent ?? 'edgeseal' },
        timeout,
        ...(signal ? { signal } : {}),
        ...(u.protocol === 'https:'
          ? { ca: this.opts.ca, cert: this.opts.cert, key: this.opts.key, rejectUnauthorized: this.opts.rejectUnauthorized ?? true }
          : {}),
      });
      req.on('timeout', () => req.destroy(new EdgesealError('FETCH_FAILED', `${url}: no data for ${timeout} ms`)));
      req.on('error', (err) => reject(err instanceof EdgesealError ? err : new EdgesealError('FETCH_FAILED', `${url}: ${err.message}`, { cause: err })));
      req.on('response', (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(new DownloadHTTPError(`${url}: expected HTTP 200, got ${res.statusCode}`, res.statusCode ?? 0));
          return;
        }
        res.on('error', () => undefined); // surfaced by the reader; avoids an unhandled 'error' event
        resolve(res);
      });
      req.end();
    });
  }
}

function parseHttpUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch (err) {
    throw new EdgesealError('USAGE', `expected an http(s) URL, found ${JSON.stringify(url)}`, { cause: err });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new EdgesealError('USAGE', `expected an http(s) URL, found ${JSON.stringify(url)}`);
  return u;
}
