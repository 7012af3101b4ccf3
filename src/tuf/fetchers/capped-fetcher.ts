import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Fetcher } from 'tuf-js';
import { EdgesealError } from '../../core/errors.js';
import { RetrievalDeadline, type RetrievalBounds } from '../../io/retrieval-deadline.js';

// A tuf-js Fetcher over any byte source that enforces maxLength mid-stream: the source is destroyed
// the moment it passes the cap, so an endless or oversized response costs at most maxLength bytes;
// with bounds, a response slower than the minimum rate over maxLength is cut too (SLOW_RETRIEVAL).
export abstract class CappedFetcher implements Fetcher {
  constructor(private readonly bounds?: RetrievalBounds) {}

  protected abstract open(url: string, signal?: AbortSignal): Promise<Readable>;

  async downloadBytes(url: string, maxLength: number): Promise<Buffer> {
    const chunks: Buffer[] = [];
    await this.pump(url, maxLength, (chunk) => {
      chunks.push(chunk);
      return Promise.resolve();
    });
    return Buffer.concat(chunks);
  }

  // Downloads to a private temp file, hands it to the handler (which verifies and copies), then removes it.
  async downloadFile<T>(url: string, maxLength: number, handler: (file: string) => Promise<T>): Promise<T> {
    const dir = await mkdtemp(join(tmpdir(), 'edgeseal-dl-'));
    try {
      const file = join(dir, 'download');
      const fh = await open(file, 'wx', 0o600);
      try {
        await this.pump(url, maxLength, async (chunk) => {
          await fh.write(chunk);
        });
      } finally {
        await fh.close();
      }
      return await handler(file);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  private async pump(url: string, maxLength: number, sink: (chunk: Buffer) => Promise<void>): Promise<void> {
    const deadline = this.bounds ? new RetrievalDeadline(url, maxLength, this.bounds) : undefined;
    let received = 0;
    let source: Readable | undefined;
    const cut = (): void => void source?.destroy(deadline?.error(received));
    deadline?.signal.addEventListener('abort', cut, { once: true });
    try {
      source = await this.open(url, deadline?.signal);
      if (deadline?.signal.aborted) cut();
      for await (const chunk of source as AsyncIterable<Buffer>) {
        received += chunk.length;
        if (received > maxLength) {
          throw new EdgesealError('OVERSIZED', `${url}: expected at most ${maxLength} bytes, received more`);
        }
        await sink(chunk);
      }
    } catch (err) {
      throw deadline?.error(received) ?? err;
    } finally {
      deadline?.signal.removeEventListener('abort', cut);
      deadline?.dispose();
      source?.destroy();
    }
  }
}
