import { hostname, userInfo } from 'node:os';
import { EdgesealError } from '../core/errors.js';
import type { SignedRole } from '../repo/repository.js';
import { TOP_ROLES, type TopRole } from '../repo/tuf-json.js';
import type { CliIo } from './command.js';

// Pieces every `edgeseal repo …` command shares: option specs, value parsing, passphrase, output lines.

export const DIR_OPTION = { dir: { type: 'string' } } as const;
export const NOW_OPTION = { now: { type: 'string' } } as const;

export const DIR_USAGE = '--dir WORKDIR      publisher working dir (keys/, repo.json, blobs/); never publish it';
export const NOW_USAGE = '--now ISO          signing time (default: the current time)';
export const PASSPHRASE_USAGE = 'encrypted keys are opened with the passphrase in $EDGESEAL_PASSPHRASE';

export { parseNow } from './command.js';

// A duration such as 48h, 2d, 30m or 90s, in seconds.
export function parseDuration(command: string, name: string, value: string): number {
  const m = /^(\d{1,9})([smhd])$/.exec(value);
  if (!m) throw new EdgesealError('USAGE', `${command}: --${name}: expected a duration like 48h, 2d, 30m or 90s, found ${JSON.stringify(value)}`);
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

// The one positional argument a command takes (`what` names it in the usage line, e.g. FILE, ROLE).
export function onePositional(command: string, positionals: readonly string[], what: string): string {
  if (positionals.length !== 1) throw new EdgesealError('USAGE', `${command}: expected exactly one ${what}, found ${positionals.length} (see 'edgeseal ${command} --help')`);
  return positionals[0];
}

export function parseCount(command: string, name: string, value: string | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min) {
    throw new EdgesealError('USAGE', `${command}: --${name}: expected an integer ≥ ${min}, found ${JSON.stringify(value)}`);
  }
  return n;
}

// Parses repeated ROLE=N options (e.g. --threshold root=2) for the top-level roles.
export function parseRoleNumbers(command: string, name: string, values: readonly string[] | undefined): Partial<Record<TopRole, number>> {
  const out: Partial<Record<TopRole, number>> = {};
  for (const v of values ?? []) {
    const m = /^([a-z]+)=(\d+)$/.exec(v);
    if (!m || !(TOP_ROLES as readonly string[]).includes(m[1]) || Number(m[2]) < 1) {
      throw new EdgesealError('USAGE', `${command}: --${name}: expected ROLE=N with ROLE one of ${TOP_ROLES.join('|')} and N ≥ 1, found ${JSON.stringify(v)}`);
    }
    out[m[1] as TopRole] = Number(m[2]);
  }
  return out;
}

// The passphrase for key files, from the environment (never from argv, where `ps` would show it).
export function passphrase(required: boolean): string | undefined {
  const p = process.env.EDGESEAL_PASSPHRASE;
  if (required && !p) throw new EdgesealError('PASSPHRASE_REQUIRED', `expected a passphrase in $EDGESEAL_PASSPHRASE for --encrypt, found none`);
  return p || undefined;
}

export function printSigned(io: CliIo, signed: readonly SignedRole[]): void {
  if (signed.length === 0) io.out('nothing to sign: no role has unsigned changes');
  for (const s of signed) io.out(`signed ${s.role.padEnd(10)} v${s.version}  expires ${s.expires}`);
}

export const shortId = (keyid: string): string => keyid.slice(0, 16);

// Who is signing, for the ceremony audit log: --as NAME, else user@host.
export function actor(as: string | undefined): string {
  return as ?? `${userInfo().username}@${hostname()}`;
}
