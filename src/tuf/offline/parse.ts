import { Metadata, type MetadataKind, type Root, type Snapshot, type Targets, type Timestamp } from '@tufjs/models';
import { EdgesealError } from '../../core/errors.js';
import { assertSupportedKeys } from './keys.js';

type Signed = { root: Root; timestamp: Timestamp; snapshot: Snapshot; targets: Targets };
export type RoleKind = keyof Signed;

// Parses one metadata file at the boundary: cap the size before parsing, then JSON, then the
// @tufjs/models schema, then our own stricter checks. Every failure is a coded error, never a crash.
export function parseMetadata<K extends RoleKind>(kind: K, bytes: Uint8Array, maxLength: number, label: string): Metadata<Signed[K]> {
  if (bytes.length > maxLength) {
    throw new EdgesealError('OVERSIZED', `${label}: expected at most ${maxLength} bytes, found ${bytes.length}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw new EdgesealError('MALFORMED_METADATA', `${label}: expected JSON, found unparsable bytes (${(err as Error).message})`, { cause: err });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new EdgesealError('MALFORMED_METADATA', `${label}: expected a JSON object, found ${Array.isArray(json) ? 'an array' : typeof json}`);
  }
  let md: Metadata<Signed[K]>;
  try {
    md = Metadata.fromJSON(kind as MetadataKind.Root, json as Parameters<typeof Metadata.fromJSON>[1]) as unknown as Metadata<Signed[K]>;
  } catch (err) {
    throw new EdgesealError('MALFORMED_METADATA', `${label}: not valid ${kind} metadata: ${(err as Error).message}`, { cause: err });
  }
  const { version } = md.signed;
  if (!Number.isSafeInteger(version) || version < 1) {
    throw new EdgesealError('MALFORMED_METADATA', `${label}: expected a positive integer version, found ${version}`);
  }
  if (kind === 'root') assertSupportedKeys((md.signed as Root).keys, label);
  if (kind === 'targets' && (md.signed as Targets).delegations) assertSupportedKeys((md.signed as Targets).delegations!.keys, label);
  return md;
}
