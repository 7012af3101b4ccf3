import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePortPair } from './free-port.js';

// A real TPM 2.0 (swtpm on libtpms) as a child process on a loopback port pair, for one test suite.
export interface Swtpm {
  readonly host: string;
  readonly port: number; // data port: raw TPM command bytes
  readonly ctrlPort: number;
  readonly stateDir: string;
  // 'host:port', the form TpmConfig.swtpm takes
  readonly address: string;
  // TPM2TOOLS_TCTI value for tpm2-tools as an oracle (close your own transport first: one client at a time)
  readonly tcti: string;
  // Stops and starts swtpm on the same state dir: a reboot (NV kept, PCRs reset).
  restart(): Promise<void>;
  // SIGTERM, wait for exit, then remove the state dir unless keepState.
  stop(opts?: { keepState?: boolean }): Promise<void>;
}

const HOST = '127.0.0.1';

function waitForPort(port: number, child: ChildProcess, stderr: () => string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = (): void => {
      if (child.exitCode !== null) {
        reject(new Error(`swtpm exited with code ${child.exitCode} before listening: ${stderr()}`));
        return;
      }
      const sock = connect({ host: HOST, port });
      sock.once('connect', () => {
        // swtpm serves one connection at a time: hand the slot straight back
        sock.destroy();
        resolve();
      });
      sock.once('error', () => {
        sock.destroy();
        if (Date.now() > deadline) reject(new Error(`swtpm did not listen on ${HOST}:${port} within ${timeoutMs} ms: ${stderr()}`));
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
  const child = spawn(
    'swtpm',
    [
      'socket',
      '--tpm2',
      '--tpmstate', `dir=${stateDir}`,
      '--server', `type=tcp,port=${port},bindaddr=${HOST}`,
      '--ctrl', `type=tcp,port=${port + 1},bindaddr=${HOST}`,
      '--flags', 'not-need-init,startup-clear',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const spawned = new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (e) => reject(new Error(`cannot start swtpm (apt-get install swtpm): ${e.message}`)));
  });
  await spawned;
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
