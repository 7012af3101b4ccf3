import { posix } from 'node:path';
import { Targets } from '@tufjs/models';
import { EdgesealError } from '../core/errors.js';
import { TOP_ROLES, type TargetsSigned } from './tuf-json.js';

const MAX_TARGET_NAME = 512;

// A target name becomes a path under <repo>/targets/ on every mirror and device: refuse anything that
// could climb out of that directory or mean different files on different systems.
export function assertSafeTargetName(name: string): string {
  const why = unsafeReason(name);
  if (why) throw new EdgesealError('UNSAFE_PATH', `target name ${JSON.stringify(name.slice(0, 80))}: expected a relative path of plain segments, found ${why}`);
  return name;
}

function unsafeReason(name: string): string | undefined {
  if (name.length === 0) return 'an empty name';
  if (name.length > MAX_TARGET_NAME) return `${name.length} characters (max ${MAX_TARGET_NAME})`;
  if (name.includes('\0')) return 'a NUL byte';
  if (name.includes('\\')) return 'a backslash';
  if (name.startsWith('/')) return 'an absolute path';
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(name)) return 'a control character';
  const segments = name.split('/');
  if (segments.some((s) => s === '..')) return 'a ".." segment';
  if (segments.some((s) => s === '.' || s === '')) return 'an empty or "." segment';
  return undefined;
}

// Consistent snapshots (spec §5.2.8 / client 5.7.3): targets/<dirs>/<sha256>.<basename>.
export function hashPrefixedPath(name: string, sha256: string): string {
  assertSafeTargetName(name);
  const dir = posix.dirname(name);
  const file = `${sha256}.${posix.basename(name)}`;
  return dir === '.' ? `targets/${file}` : `targets/${dir}/${file}`;
}

// Delegated role names become metadata file names (N.<role>.json).
export function assertSafeRoleName(name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name) || (TOP_ROLES as readonly string[]).includes(name)) {
    throw new EdgesealError('UNSAFE_PATH', `role name ${JSON.stringify(name.slice(0, 80))}: expected 1–64 of [A-Za-z0-9._-], not a top-level role name`);
  }
  return name;
}

// Delegated path patterns obey the same rules as names ('*' and '?' stand for plain characters).
export function assertSafePattern(pattern: string): void {
  assertSafeTargetName(pattern.replace(/[*?]/g, 'x'));
}

// Same matcher the client uses (spec §4.5 "paths": shell-style per segment, '*' never crosses '/').
export function isDelegatedPath(delegator: TargetsSigned, role: string, name: string): boolean {
  const parsed = Targets.fromJSON(JSON.parse(JSON.stringify(delegator)) as Parameters<typeof Targets.fromJSON>[0]);
  return parsed.delegations?.roles?.[role]?.isDelegatedPath(name) ?? false;
}
