import { posix } from 'node:path';
import { EdgesealError } from '../core/errors.js';

// A path written into a unit file. systemd expands % specifiers in DeviceAllow= and ReadWritePaths=,
// splits them at whitespace and unquotes them; rather than escape for each parser, only characters that
// no parser treats specially are accepted (what device nodes, partition labels and state dirs use).
const SAFE = /^(?:\/[A-Za-z0-9_@+.-]+)+$/;

export function unitPath(field: string, path: string): string {
  const parts = path.split('/').slice(1);
  if (!SAFE.test(path) || parts.some((p) => p === '.' || p === '..')) {
    throw new EdgesealError(
      'CONFIG_INVALID',
      `systemd-units: ${field}: expected an absolute, normalized path of letters, digits and . _ @ + - (a unit file expands % specifiers and splits at spaces), found ${JSON.stringify(path)}`,
    );
  }
  return path;
}

// The directory a file is replaced in (temp file + rename needs the directory writable, not just the file).
export function parentDir(field: string, path: string): string {
  const dir = posix.dirname(unitPath(field, path));
  if (dir === '/') throw new EdgesealError('CONFIG_INVALID', `systemd-units: ${field}: expected a file in a directory of its own (its directory becomes writable), found ${JSON.stringify(path)} directly under /`);
  return dir;
}

// The device unit systemd creates for a /dev node (systemd-escape --path), for the simple names TPMs get.
export function deviceUnit(field: string, path: string): string {
  const m = /^\/dev\/([A-Za-z0-9_]+)$/.exec(path);
  if (!m) throw new EdgesealError('CONFIG_INVALID', `systemd-units: ${field}: expected a device node like /dev/tpmrm0, found ${JSON.stringify(path)}`);
  return `dev-${m[1]}.device`;
}
