import { chmod, mkdir, unlink } from 'node:fs/promises';
import { createConnection, createServer, type Server } from 'node:net';
import { dirname, join } from 'node:path';
import { asEdgesealError, EdgesealError, ERROR_CODES, type ErrorCode } from '../core/errors.js';
import type { Logger } from '../log/logger.js';
import { parseMarkRequest, type MarkOutcome, type MarkRequest } from './marks.js';

// The running agent's control socket: the mark commands hand their request to the agent that owns the
// device (its outbox lock, its TPM connection, its journal writes) instead of racing it. One JSON line
// in, one JSON line out. The socket lives in runDir (RuntimeDirectory=, tmpfs) with mode 0600: only
// root, who can stop the agent and act alone anyway, may ask.

const MAX_REQUEST = 4096;

type Reply = { readonly ok: true; readonly outcome: MarkOutcome } | { readonly ok: false; readonly code: ErrorCode; readonly message: string };

export const controlSocketPath = (runDir: string): string => join(runDir, 'control.sock');

export interface ControlSocket {
  close(): Promise<void>;
}

// One request line as a mark request, or USAGE saying what is wrong with it.
export function parseRequestLine(line: string): MarkRequest {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (err) {
    throw new EdgesealError('USAGE', `control request: expected JSON, found ${(err as Error).message}`, { cause: err });
  }
  return parseMarkRequest(raw);
}

// Listens at `path` (a stale socket from a killed agent is replaced); `handle` runs one request at a time.
export async function listenControl(path: string, handle: (req: MarkRequest) => Promise<MarkOutcome>, logger: Logger): Promise<ControlSocket> {
  const log = logger.child({ component: 'control' });
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await unlink(path).catch(() => undefined);
  const server: Server = createServer((conn) => {
    let buf = '';
    conn.setEncoding('utf8');
    conn.on('error', () => conn.destroy());
    conn.on('data', (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0 && buf.length <= MAX_REQUEST) return;
      conn.removeAllListeners('data');
      void answer(nl < 0 ? undefined : buf.slice(0, nl)).then((reply) => conn.end(`${JSON.stringify(reply)}\n`));
    });
  });
  const answer = async (line: string | undefined): Promise<Reply> => {
    try {
      if (line === undefined) throw new EdgesealError('USAGE', `control request: expected one JSON line of at most ${MAX_REQUEST} bytes, found more`);
      const req = parseRequestLine(line);
      log.info(`${req.op} requested`, { op: req.op });
      return { ok: true, outcome: await handle(req) };
    } catch (err) {
      const e = asEdgesealError(err);
      log.warn(`control request refused [${e.code}] ${e.message}`, { code: e.code });
      return { ok: false, code: e.code, message: e.message };
    }
  };
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new EdgesealError('STORAGE_ERROR', `control socket ${path}: ${err.message}`, { cause: err })));
    server.listen(path, resolve);
  });
  await chmod(path, 0o600);
  return { close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

// Sends `req` to the agent listening at `path`; undefined when no agent listens there (then the caller
// acts itself, under the outbox lock). The agent's refusal comes back as the same EdgesealError.
export function requestControl(path: string, req: MarkRequest, timeoutMs = 600_000): Promise<MarkOutcome | undefined> {
  return new Promise((resolve, reject) => {
    const conn = createConnection(path);
    let buf = '';
    let connected = false;
    conn.setEncoding('utf8');
    conn.setTimeout(timeoutMs, () => conn.destroy(new EdgesealError('STORAGE_ERROR', `control socket ${path}: expected an answer within ${timeoutMs / 1000}s, found none`)));
    conn.on('connect', () => {
      connected = true;
      conn.write(`${JSON.stringify(req)}\n`);
    });
    conn.on('data', (chunk: string) => (buf += chunk));
    conn.on('error', (err: NodeJS.ErrnoException) => {
      if (!connected && (err.code === 'ENOENT' || err.code === 'ECONNREFUSED')) resolve(undefined);
      else reject(err instanceof EdgesealError ? err : new EdgesealError('STORAGE_ERROR', `control socket ${path}: ${err.message}`, { cause: err }));
    });
    conn.on('end', () => {
      try {
        resolve(parseReply(path, buf));
      } catch (err) {
        reject(asEdgesealError(err));
      }
    });
  });
}

function parseReply(path: string, text: string): MarkOutcome {
  let reply: Partial<Record<string, unknown>>;
  try {
    reply = JSON.parse(text) as Partial<Record<string, unknown>>;
  } catch {
    throw new EdgesealError('STORAGE_ERROR', `control socket ${path}: expected a JSON reply, found ${JSON.stringify(text.slice(0, 200))}`);
  }
  if (reply.ok === true && typeof reply.outcome === 'object' && reply.outcome !== null) return reply.outcome as MarkOutcome;
  const code = ERROR_CODES.includes(reply.code as ErrorCode) ? (reply.code as ErrorCode) : 'INTERNAL';
  throw new EdgesealError(code, typeof reply.message === 'string' ? reply.message : `control socket ${path}: unreadable reply ${JSON.stringify(text.slice(0, 200))}`);
}
