import { EdgesealError, type ErrorCode } from '../core/errors.js';

// tuf-js and @tufjs/models throw their own classes (and sometimes re-wrap them into a RuntimeError
// whose message is all that is left); this maps both onto our stable codes so the agent and the CLI
// report one vocabulary.
const BY_CLASS: Readonly<Record<string, ErrorCode>> = {
  ExpiredMetadataError: 'EXPIRED',
  BadVersionError: 'ROLLBACK',
  UnsignedMetadataError: 'SIGNATURE_THRESHOLD',
  LengthOrHashMismatchError: 'DIGEST_MISMATCH',
  DownloadLengthMismatchError: 'OVERSIZED',
  DownloadError: 'FETCH_FAILED',
  PersistError: 'STORAGE_ERROR',
  CryptoError: 'MALFORMED_METADATA',
  ValueError: 'MALFORMED_METADATA',
  RepositoryError: 'MALFORMED_METADATA',
  SyntaxError: 'MALFORMED_METADATA',
  TypeError: 'MALFORMED_METADATA',
};

// For wrapped messages; ordered, the first match wins.
const BY_MESSAGE: readonly (readonly [RegExp, ErrorCode])[] = [
  [/expected at most \d+ bytes|Max length/i, 'OVERSIZED'],
  [/expected a (plain file|path) inside|symlink/i, 'UNSAFE_PATH'],
  [/signed by \d+\/\d+ keys|expected valid signatures/i, 'SIGNATURE_THRESHOLD'],
  [/expired/i, 'EXPIRED'],
  [/Expected length/i, 'LENGTH_MISMATCH'],
  [/Expected hash/i, 'DIGEST_MISMATCH'],
  [/less than current version|does not match snapshot version|doesn't match timestamp|Expected version/i, 'ROLLBACK'],
  [/Failed to download|fetch failed|ECONNREFUSED|ECONNRESET|expected HTTP 200|no data for|not found/i, 'FETCH_FAILED'],
];

function classCode(err: Error): ErrorCode | undefined {
  for (let p = Object.getPrototypeOf(err) as object | null; p && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
    const name = (p as { constructor?: { name?: string } }).constructor?.name;
    if (name === 'RuntimeError') return undefined; // a wrapper: only its message carries the cause
    const code = name ? BY_CLASS[name] : undefined;
    if (code) return code;
  }
  return undefined;
}

const FS_ERRNOS = new Set(['ENOENT', 'EACCES', 'EPERM', 'ENOSPC', 'EROFS', 'EISDIR', 'ENOTDIR', 'EEXIST', 'EIO']);

export function fromTufError(err: unknown): EdgesealError {
  if (err instanceof EdgesealError) return err;
  if (!(err instanceof Error)) return new EdgesealError('INTERNAL', String(err), { cause: err });
  if (FS_ERRNOS.has((err as NodeJS.ErrnoException).code ?? '')) return new EdgesealError('STORAGE_ERROR', err.message, { cause: err });
  const code = classCode(err) ?? BY_MESSAGE.find(([re]) => re.test(err.message))?.[1] ?? 'MALFORMED_METADATA';
  return new EdgesealError(code, err.message, { cause: err });
}
