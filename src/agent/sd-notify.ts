import { createRequire } from 'node:module';

// systemd's notify protocol (sd_notify(3)): datagrams like "READY=1" to the AF_UNIX socket in
// NOTIFY_SOCKET. Node has no AF_UNIX datagram sockets, so the optional native `unix-dgram` sends them.
export interface Notifier {
  readonly enabled: boolean;
  ready(status?: string): void;
  watchdog(): void;
  stopping(status?: string): void;
  status(text: string): void;
  // Interval at which WATCHDOG=1 must be sent (half of WATCHDOG_USEC), or undefined when not asked for.
  readonly watchdogIntervalMs: number | undefined;
  close(): void;
}

interface DgramSocket {
  send(buf: Buffer, offset: number, length: number, path: string, cb?: (err?: Error) => void): void;
  on(event: 'error', cb: (err: Error) => void): void;
  close(): void;
}
type SocketFactory = () => DgramSocket;

function loadUnixDgram(): SocketFactory | undefined {
  try {
    const mod = createRequire(import.meta.url)('unix-dgram') as { createSocket(type: 'unix_dgram'): DgramSocket };
    return () => mod.createSocket('unix_dgram');
  } catch {
    return undefined;
  }
}

export function watchdogInterval(env: NodeJS.ProcessEnv, pid: number): number | undefined {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isFinite(usec) || usec <= 0) return undefined;
  // WATCHDOG_PID names the process the watchdog is meant for; a child must not answer for its parent.
  if (env.WATCHDOG_PID !== undefined && Number(env.WATCHDOG_PID) !== pid) return undefined;
  return Math.max(1, Math.floor(usec / 2000));
}

// A notifier that is a silent no-op when NOTIFY_SOCKET is unset (not started by systemd).
export function createNotifier(
  env: NodeJS.ProcessEnv = process.env,
  opts: { pid?: number; socketFactory?: SocketFactory; onError?: (err: Error) => void } = {},
): Notifier {
  const target = env.NOTIFY_SOCKET;
  const factory = opts.socketFactory ?? loadUnixDgram();
  const watchdogIntervalMs = watchdogInterval(env, opts.pid ?? process.pid);
  if (!target || !factory) {
    if (target && !factory) opts.onError?.(new Error('NOTIFY_SOCKET is set but the unix-dgram module is not installed; systemd will not see READY=1'));
    const noop = (): void => undefined;
    return { enabled: false, ready: noop, watchdog: noop, stopping: noop, status: noop, watchdogIntervalMs, close: noop };
  }
  // "@name" is Linux's abstract socket namespace: a leading NUL byte.
  const path = target.startsWith('@') ? `\0${target.slice(1)}` : target;
  const socket = factory();
  socket.on('error', (err) => opts.onError?.(err));
  const send = (text: string): void => {
    const buf = Buffer.from(text);
    socket.send(buf, 0, buf.length, path, (err) => {
      if (err) opts.onError?.(err);
    });
  };
  const withStatus = (base: string, status?: string): string => (status ? `${base}\nSTATUS=${status}` : base);
  return {
    enabled: true,
    ready: (status) => send(withStatus('READY=1', status)),
    watchdog: () => send('WATCHDOG=1'),
    stopping: (status) => send(withStatus('STOPPING=1', status)),
    status: (text) => send(`STATUS=${text}`),
    watchdogIntervalMs,
    close: () => socket.close(),
  };
}
