import type { ParseArgsConfig } from 'node:util';
import { EdgesealError, type ErrorCode } from '../core/errors.js';

// a built-in by process.getBuiltinModule, not import: start-up (src/cli/dispatch.ts says why)
const { parseArgs } = process.getBuiltinModule('node:util');

// A sub-command: parses its own arguments, does its work, returns the process exit code. Its one-line
// summary lives in the registry (commands.ts), which lists commands without loading them.
export interface Command {
  readonly name: string;
  readonly usage: string;
  run(argv: string[], io: CliIo): Promise<number>;
}

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  readonly isTTY: boolean;
}

// Exit codes scripts can rely on (documented in README).
export const EXIT = {
  OK: 0,
  REFUSED: 1, // a verification or gate said no
  USAGE: 2, // bad arguments or configuration
  ENVIRONMENT: 3, // TPM, disk, network or broker unavailable
  INTERNAL: 70,
} as const;

const ENVIRONMENT_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'TPM_UNREACHABLE',
  'STORAGE_ERROR',
  'OUTBOX_LOCKED', // another process (the running agent) owns the telemetry outbox
  'FETCH_FAILED',
  'SLOW_RETRIEVAL',
  'TLS_UNTRUSTED', // the update transport's TLS or proxy: the network's or its config's fault, not the image's
  'TLS_CLIENT_REJECTED',
  'PROXY_FAILED',
  'BROKER_UNREACHABLE',
  'BROKER_REJECTED',
  'DEPENDENCY_MISSING',
  'SIGNER_FAILED', // the HSM or signer command is unavailable or misbehaving
]);
const USAGE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['USAGE', 'CONFIG_INVALID', 'PASSPHRASE_REQUIRED', 'KEY_INVALID', 'ANCHOR_EXISTS']);

export function exitCodeFor(code: ErrorCode): number {
  if (code === 'INTERNAL') return EXIT.INTERNAL;
  if (USAGE_CODES.has(code)) return EXIT.USAGE;
  if (ENVIRONMENT_CODES.has(code)) return EXIT.ENVIRONMENT;
  return EXIT.REFUSED;
}

// node:util parseArgs, with its TypeErrors turned into USAGE errors that name the command.
export function parseCommandArgs<T extends NonNullable<ParseArgsConfig['options']>>(
  command: string,
  argv: string[],
  options: T,
  allowPositionals = false,
): { values: ReturnType<typeof parseArgs<{ options: T; allowPositionals: boolean; args: string[] }>>['values']; positionals: string[] } {
  try {
    const parsed = parseArgs({ args: argv, options, allowPositionals, strict: true });
    return { values: parsed.values, positionals: parsed.positionals };
  } catch (err) {
    throw new EdgesealError('USAGE', `${command}: ${(err as Error).message} (see 'edgeseal ${command} --help')`, { cause: err });
  }
}

// Returns the value of a required option or throws USAGE naming it.
export function required<V>(command: string, name: string, value: V | undefined): V {
  if (value === undefined || value === '') {
    throw new EdgesealError('USAGE', `${command}: --${name} is required (see 'edgeseal ${command} --help')`);
  }
  return value;
}

// --now: the time a command acts at (default: the current time). Here, not in repo-shared.ts, so that
// `verify` (run at every boot) loads no publisher module for it.
export function parseNow(command: string, value: string | undefined): Date {
  if (value === undefined) return new Date();
  const at = new Date(value);
  if (Number.isNaN(at.getTime())) throw new EdgesealError('USAGE', `${command}: --now: expected an ISO 8601 time, found ${JSON.stringify(value)}`);
  return at;
}
