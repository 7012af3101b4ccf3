import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EdgesealError } from '../core/errors.js';

// A software TPM 2.0 (swtpm on libtpms) as a child process on a loopback port pair: for the first-run
// demo (and the test harness). Restarting it on the same state dir is a reboot: NV kept, PCRs reset.
export interface Swtpm {
  readonly host: string;
  readonly port: number; // data port: raw TPM command bytes
  readonly ctrlPort: number;
  readonly stateDir: string;
  readonly address: string; // 'host:port', the form TpmConfig.swtpm takes
  readonly tcti: string; // TPM2TOOLS_TCTI for tpm2-tools (one client at a time)
  restart(): Promise<void>;
  // SIGTERM, wait for exit, then remove the state dir unless keepState (or the caller owns it)
  stop(opts?: { keepState?: boolean }): Promise<void>;
}

const HOST = '127.0.0.1';

function listenable(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(undefined));
    srv.listen(port, HOST, () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : undefined));
    });
  });
}

// Two consecutive free loopback ports (swtpm's data and control ports).
export async function freePortPair(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const p = await listenable(0);
    if (p !== undefined && p < 65535 && (await listenable(p + 1)) !== undefined) return p;
  }
  throw new EdgesealError('TPM_UNREACHABLE', 'swtpm: expected two consecutive free loopback ports, found none in 50 tries');
}

function waitForPort(port: number, child: ChildProcess, stderr: () => string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = (): void => {
      if (child.exitCode !== null) {
        reject(new EdgesealError('TPM_UNREACHABLE', `swtpm exited with code ${child.exitCode} before listening: ${stderr()}`));
        return;
      }
      const sock = connect({ host: HOST, port });
      sock.once('connect', () => {
        sock.destroy(); // swtpm serves one connection at a time: hand the slot straight back
        resolve();
      });
      sock.once('error', () => {
        sock.destroy();
        if (Date.now() > deadline) reject(new EdgesealError('TPM_UNREACHABLE', `swtpm did not listen on ${HOST}:${port} within ${timeoutMs} ms: ${stderr()}`));
        else setTimeout(attempt, 5);
      });
    };
    attempt();
  });
}

function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function launch(stateDir: string, port: number): Promise<ChildProcess> {
  const args = ['socket', '--tpm2', '--tpmstate', `dir=${stateDir}`, '--server', `type=tcp,port=${port},bindaddr=${HOST}`, '--ctrl', `type=tcp,port=${port + 1},bindaddr=${HOST}`, '--flags', 'not-need-init,startup-clear'];
  const child = spawn('swtpm', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (e: NodeJS.ErrnoException) =>
      reject(new EdgesealError('TPM_UNREACHABLE', e.code === 'ENOENT' ? 'swtpm is not installed: sudo apt-get install swtpm swtpm-tools' : `cannot start swtpm: ${e.message}`, { cause: e })),
    );
  });
  try {
    await waitForPort(port, child, () => err);
  } catch (e) {
    // never leave a half-started swtpm behind
    child.kill('SIGKILL');
    await waitForExit(child);
    throw e;
  }
  return child;
}

// Starts swtpm in a fresh temp state dir (or the given one, e.g. to reuse a provisioned TPM).
export async function startSwtpm(opts: { stateDir?: string } = {}): Promise<Swtpm> {
  const stateDir = opts.stateDir ?? (await mkdtemp(join(tmpdir(), 'edgeseal-swtpm-')));
  const port = await freePortPair();
  let child = await launch(stateDir, port);
  const stopChild = async (): Promise<void> => {
    const c = child;
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    await waitForExit(c);
  };
  return {
    host: HOST,
    port,
    ctrlPort: port + 1,
    stateDir,
    address: `${HOST}:${port}`,
    tcti: `swtpm:host=${HOST},port=${port}`,
    async restart() {
      await stopChild();
      child = await launch(stateDir, port);
    },
    async stop(stopOpts = {}) {
      await stopChild();
      if (!stopOpts.keepState && opts.stateDir === undefined) await rm(stateDir, { recursive: true, force: true });
    },
  };
}
