import { EdgesealError } from '../core/errors.js';
// the publisher's layout, which checks the name (signed names are checked before they become a URL or a file path)
import { hashPrefixedPath } from '../repo/target-path.js';

export interface TargetRef {
  readonly name: string; // TUF target path, e.g. "firmware/board-a/fw.bin"
  readonly length: number;
  readonly sha256: string; // lowercase hex
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

function assertDigest(target: TargetRef): void {
  if (!SHA256_HEX.test(target.sha256)) {
    throw new EdgesealError('MALFORMED_METADATA', `target ${target.name}: expected a lowercase hex sha256, found ${JSON.stringify(target.sha256)}`);
  }
}

// Path of the target file inside the published targets/ dir (consistent_snapshot: "<dirs>/<sha256>.<basename>").
export function publishedTargetPath(target: TargetRef): string {
  assertDigest(target);
  return hashPrefixedPath(target.name, target.sha256).slice('targets/'.length);
}
