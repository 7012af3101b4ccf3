import { serveDirectory } from '../../src/demo/static-server.js';

// The demo's repository server with knobs for tests: the first response for a target file can be cut
// (dropAfter: socket destroyed) or stalled (stallAfter: never finished).
export interface RepoServer {
  readonly url: string;
  readonly requests: { path: string; range: string | undefined }[];
  close(): Promise<void>;
}

export async function serveRepo(root: string, opts: { dropAfter?: number; stallAfter?: number } = {}): Promise<RepoServer> {
  const requests: RepoServer['requests'] = [];
  let misbehaved = false;
  const cut = opts.dropAfter ?? opts.stallAfter;
  const server = await serveDirectory(root, {
    onRequest: (path, range) => requests.push({ path, range }),
    hook: (path, body, res) => {
      if (cut === undefined || misbehaved || !path.startsWith('/targets/')) return false;
      misbehaved = true;
      res.write(body.subarray(0, cut), () => {
        if (opts.dropAfter !== undefined) setTimeout(() => res.socket?.destroy(), 20);
      });
      return true;
    },
  });
  return { url: server.url, requests, close: () => server.close() };
}
