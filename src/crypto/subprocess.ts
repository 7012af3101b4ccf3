import { spawnSync } from 'node:child_process';
import { EdgesealError } from '../core/errors.js';

export interface RunOptions {
  readonly input?: Uint8Array;
  readonly timeoutMs: number;
  readonly env?: NodeJS.ProcessEnv;
  readonly label: string; // names the signer in errors
}

const MAX_OUTPUT = 1024 * 1024;

// Runs argv without a shell and returns stdout; a timeout, a signal or a non-zero exit is SIGNER_FAILED
// with the tail of stderr. Synchronous because signing sits inside the synchronous Repository.sign.
export function runSync(argv: readonly string[], opts: RunOptions): Buffer {
  const [file, ...args] = argv;
  if (file === undefined) throw new EdgesealError('USAGE', `${opts.label}: expected a command, found an empty argv`);
  const r = spawnSync(file, args, {
    input: opts.input ?? Buffer.alloc(0),
    timeout: opts.timeoutMs,
    killSignal: 'SIGKILL',
    maxBuffer: MAX_OUTPUT,
    env: opts.env ?? process.env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const stderr = (r.stderr ?? Buffer.alloc(0)).toString('utf8').trim().split('\n').slice(-3).join(' | ');
  if (r.error) {
    const timedOut = (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT';
    const found = timedOut ? `no answer within ${opts.timeoutMs} ms (killed)` : r.error.message;
    throw new EdgesealError('SIGNER_FAILED', `${opts.label}: expected ${file} to run, found ${found}`, { cause: r.error });
  }
  if (r.status !== 0) {
    const how = r.signal ? `signal ${r.signal}` : `exit status ${r.status}`;
    throw new EdgesealError('SIGNER_FAILED', `${opts.label}: expected ${file} to exit 0, found ${how}${stderr ? `: ${stderr}` : ''}`);
  }
  return r.stdout;
}
