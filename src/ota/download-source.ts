import { open, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { EdgesealError } from '../core/errors.js';
import { HttpTransport } from '../net/http-transport.js';

// Where target files come from: a published repository over HTTP(S), or the same layout on a local
// directory (USB stick, factory image). Both are opened at a byte offset so a download can resume.
// An http source without a transport gets a plain one (system CAs, no proxy, no cap).
export type DownloadSource = { readonly kind: 'http'; readonly baseUrl: string; readonly transport?: HttpTransport } | { readonly kind: 'dir'; readonly path: string };

export interface OpenedBody {
  // true: the body starts at the requested offset; false: it starts at byte 0 (server ignored Range)
  readonly resumed: boolean;
  // bytes the source announced for this body (Content-Length), when it did
  readonly declaredLength: number | undefined;
  readonly chunks: AsyncIterable<Uint8Array>;
  // stops the transfer early (length cap reached, caller aborted)
  cancel(): void;
}

const CHUNK = 1024 * 1024;

async function openHttp(baseUrl: string, transport: HttpTransport, relPath: string, offset: number, signal?: AbortSignal): Promise<OpenedBody> {
  const url = new URL(`targets/${relPath.split('/').map(encodeURIComponent).join('/')}`, baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  const res = await transport.get(url, offset > 0 ? { range: `bytes=${offset}-` } : {}, signal);
  const declared = res.headers['content-length'];
  const declaredLength = declared === undefined ? undefined : Number(declared);
  const cancel = (): void => void res.body.destroy();
  if (res.status === 206) {
    // RFC 9110 §14.4: the server must say which range it sent; only accept the one we asked for.
    const range = /^bytes (\d+)-\d+\/(?:\d+|\*)$/.exec(res.headers['content-range'] ?? '');
    if (!range || Number(range[1]) !== offset) {
      cancel();
      throw new EdgesealError('FETCH_FAILED', `GET ${url.href}: expected Content-Range starting at ${offset}, found ${JSON.stringify(res.headers['content-range'] ?? null)}`);
    }
  } else if (res.status === 416) {
    // we only ask for ranges inside the signed length, so the server's file is shorter than signed
    cancel();
    throw new EdgesealError('LENGTH_MISMATCH', `GET ${url.href}: expected ${offset} bytes or more, the server has fewer (HTTP 416)`);
  } else if (res.status !== 200) {
    cancel();
    throw new EdgesealError('FETCH_FAILED', `GET ${url.href}: expected HTTP 200 or 206, found ${res.status} ${res.statusText}`);
  }
  return { resumed: res.status === 206, declaredLength, chunks: res.body, cancel };
}

async function openDir(root: string, relPath: string, offset: number, expectedLength: number, signal?: AbortSignal): Promise<OpenedBody> {
  const path = join(root, 'targets', ...relPath.split('/'));
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (err) {
    throw new EdgesealError('FETCH_FAILED', `${path}: ${(err as Error).message}`, { cause: err });
  }
  // A local file's size is known up front: a wrong one is never worth reading.
  if (size !== expectedLength) throw new EdgesealError('LENGTH_MISMATCH', `${path}: expected ${expectedLength} bytes, found ${size}`);
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw new EdgesealError('FETCH_FAILED', `${path}: ${(err as Error).message}`, { cause: err });
  }
  let cancelled = false;
  return { resumed: true, declaredLength: size - offset, chunks: readAhead(fh, offset, () => cancelled || signal?.aborted === true), cancel: () => void (cancelled = true) };
}

// A file's chunks through two reused 1 MiB buffers, the next read running while the consumer handles
// the current chunk: constant memory at disk speed. A chunk is valid until the one after it is asked for.
async function* readAhead(fh: FileHandle, offset: number, stopped: () => boolean): AsyncGenerator<Uint8Array> {
  const buffers = [Buffer.allocUnsafe(CHUNK), Buffer.allocUnsafe(CHUNK)];
  let k = 0;
  let position = offset;
  let next = fh.read(buffers[k], 0, CHUNK, position);
  try {
    for (;;) {
      const { bytesRead } = await next;
      if (bytesRead === 0) return;
      if (stopped()) throw new Error('stopped');
      const chunk = buffers[k].subarray(0, bytesRead);
      position += bytesRead;
      k ^= 1;
      next = fh.read(buffers[k], 0, CHUNK, position);
      yield chunk;
    }
  } finally {
    await next.catch(() => undefined);
    await fh.close();
  }
}

// Opens the target file at `relPath` (inside targets/) starting at `offset`.
export function openSource(source: DownloadSource, relPath: string, offset: number, expectedLength: number, signal?: AbortSignal): Promise<OpenedBody> {
  if (source.kind === 'dir') return openDir(source.path, relPath, offset, expectedLength, signal);
  return openHttp(source.baseUrl, source.transport ?? new HttpTransport(), relPath, offset, signal);
}
