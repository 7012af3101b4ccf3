import { spawn } from 'node:child_process';

// systemd's notify protocol (sd_notify(3)): "READY=1"-style datagrams to the AF_UNIX socket in
// NOTIFY_SOCKET. Node cannot open AF_UNIX datagram sockets, so each message is handed to systemd's own
// `systemd-notify` (no compiled addon on the device). It exits only after sd_notify_barrier (systemd ≥ 246)
// saw the manager read the message, so the short-lived sender never races its own exit; the unit needs
// NotifyAccess=all because the sender is a child of the main process (docs/packaging.md has the figures).
export interface Notifier {
  readonly enabled: boolean;
  ready(status?: string): void;
  watchdog(): void;
  stopping(status?: string): void;
  status(text: string): void;
  // Interval at which WATCHDOG=1 must be sent (half of WATCHDOG_USEC), or undefined when not asked for.
  readonly watchdogIntervalMs: number | undefined;
  // Resolves once every message queued so far was handed over (or failed).
  close(): Promise<void>;
}

export interface NotifierOptions {
  readonly pid?: number;
  readonly command?: string; // default: systemd-notify, looked up on env.PATH
  readonly onError?: (err: Error) => void;
}

export function watchdogInterval(env: NodeJS.ProcessEnv, pid: number): number | undefined {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isFinite(usec) || usec <= 0) return undefined;
  // WATCHDOG_PID names the process the watchdog is meant for; a child must not answer for its parent.
  if (env.WATCHDOG_PID !== undefined && Number(env.WATCHDOG_PID) !== pid) return undefined;
  return Math.max(1, Math.floor(usec / 2000));
}

// One line per assignment: a newline in a status text must not smuggle in another assignment (MAINPID=…).
const oneLine = (text: string): string => text.replace(/[\r\n]+/g, ' ');

function runNotify(command: string, env: NodeJS.ProcessEnv, assignments: readonly string[]): Promise<Error | undefined> {
  return new Promise((resolve) => {
    const child = spawn(command, [...assignments], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err: NodeJS.ErrnoException) =>
      resolve(err.code === 'ENOENT' ? Object.assign(new Error(`NOTIFY_SOCKET is set but ${command} was not found on PATH (${env.PATH ?? ''}); systemd will not see READY=1 or WATCHDOG=1: install systemd (it ships systemd-notify)`), { code: 'ENOENT' }) : err),
    );
    child.on('close', (code) => resolve(code === 0 ? undefined : new Error(`${command} ${assignments.join(' ')}: exit ${code ?? 'signal'}: ${stderr.trim()}`)));
  });
}

// A notifier that is a silent no-op when NOTIFY_SOCKET is unset (not started by systemd). Messages go
// out one at a time in order; a WATCHDOG=1 already waiting makes another one redundant.
export function createNotifier(env: NodeJS.ProcessEnv = process.env, opts: NotifierOptions = {}): Notifier {
  const target = env.NOTIFY_SOCKET;
  const watchdogIntervalMs = watchdogInterval(env, opts.pid ?? process.pid);
  if (!target) {
    const noop = (): void => undefined;
    return { enabled: false, ready: noop, watchdog: noop, stopping: noop, status: noop, watchdogIntervalMs, close: () => Promise.resolve() };
  }
  const command = opts.command ?? 'systemd-notify';
  const childEnv = { NOTIFY_SOCKET: target, PATH: env.PATH ?? '/usr/bin:/bin' };
  let chain = Promise.resolve();
  let missing = false;
  let failing = false; // report the first failure of a run of failures, not one per watchdog tick
  let watchdogQueued = false;
  const send = (assignments: string[]): void => {
    chain = chain.then(async () => {
      if (assignments[0] === 'WATCHDOG=1') watchdogQueued = false;
      if (missing) return;
      const err = await runNotify(command, childEnv, assignments);
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') missing = true;
      if (err && !failing) opts.onError?.(err);
      failing = err !== undefined;
    });
  };
  const withStatus = (base: string, status?: string): string[] => (status ? [base, `STATUS=${oneLine(status)}`] : [base]);
  return {
    enabled: true,
    ready: (status) => send(withStatus('READY=1', status)),
    watchdog: () => {
      if (watchdogQueued) return;
      watchdogQueued = true;
      send(['WATCHDOG=1']);
    },
    stopping: (status) => send(withStatus('STOPPING=1', status)),
    status: (text) => send([`STATUS=${oneLine(text)}`]),
    watchdogIntervalMs,
    close: () => chain,
  };
}
