import type { Readable } from 'node:stream';
import { DownloadHTTPError } from 'tuf-js/dist/error.js';
import { EdgesealError } from '../../core/errors.js';
import type { RetrievalBounds } from '../../io/retrieval-deadline.js';
import { HttpTransport } from '../../net/http-transport.js';
import { CappedFetcher } from './capped-fetcher.js';

// HTTP(S) fetcher for repository mirrors, over the update transport (TLS, proxy, bandwidth cap).
// 403/404 become tuf-js DownloadHTTPError so the root walk (5.3.3) knows when to stop.
export class HttpFetcher extends CappedFetcher {
  constructor(
    private readonly transport: HttpTransport = new HttpTransport(),
    bounds?: RetrievalBounds,
  ) {
    super(bounds);
  }

  protected async open(url: string, signal?: AbortSignal): Promise<Readable> {
    const res = await this.transport.get(parseHttpUrl(url), {}, signal);
    if (res.status !== 200) {
      res.body.destroy();
      throw new DownloadHTTPError(`${url}: expected HTTP 200, got ${res.status}`, res.status);
    }
    return res.body;
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
