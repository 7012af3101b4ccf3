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

// The device unit systemd creates for a /dev path (`systemd-escape --path --suffix=device`): '/' becomes
// '-', and every byte but letters, digits, ':', '_' and a non-leading '.' becomes \xNN.
export function deviceUnit(field: string, path: string): string {
  const name = unitPath(field, path)
    .slice(1)
    .replace(/[^A-Za-z0-9:_./]|^\./g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
    .replaceAll('/', '-');
  return `${name}.device`;
}
