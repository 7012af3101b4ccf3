import { basename, join } from 'node:path';
import { EdgesealError } from '../core/errors.js';

export interface TargetRef {
  readonly name: string; // TUF target path, e.g. "firmware/board-a/fw.bin"
  readonly length: number;
  readonly sha256: string; // lowercase hex
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

// Checks a target name before it becomes part of a URL or a file path: relative, '/'-separated,
// no empty, '.' or '..' segments, no backslashes or NULs, so a signed-but-hostile name cannot escape.
export function assertSafeTargetName(name: string): void {
  const segments = name.split('/');
  if (name.length === 0 || /[\\\0]/.test(name) || segments.some((s) => s === '' || s === '.' || s === '..')) {
    throw new EdgesealError('UNSAFE_PATH', `expected a relative target path without '.', '..' or empty segments, found ${JSON.stringify(name)}`);
  }
}

function assertDigest(target: TargetRef): void {
  if (!SHA256_HEX.test(target.sha256)) {
    throw new EdgesealError('MALFORMED_METADATA', `target ${target.name}: expected a lowercase hex sha256, found ${JSON.stringify(target.sha256)}`);
  }
}

// Path of the target file inside the published targets/ dir (consistent_snapshot: "<dirs>/<sha256>.<basename>").
export function publishedTargetPath(target: TargetRef): string {
  assertSafeTargetName(target.name);
  assertDigest(target);
  const segments = target.name.split('/');
  const base = segments.pop() as string;
  return [...segments, `${target.sha256}.${base}`].join('/');
}

// Where the partial download lives. Named by digest so a resume only ever continues the same content.
export function partPath(stagingDir: string, target: TargetRef): string {
  assertSafeTargetName(target.name);
  assertDigest(target);
  return join(stagingDir, `${target.sha256}.${basename(target.name)}.part`);
}
