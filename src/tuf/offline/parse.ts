import { canonicalize } from '../../core/canonical-json.js';
import { EdgesealError } from '../../core/errors.js';
import { metadataFromJSON, type RoleKind, type SignedOf } from './from-json.js';
import { assertSupportedKeys } from './keys.js';
import type { Metadata, Root, Signed, Targets } from './model.js';

export type { RoleKind } from './from-json.js';

// One metadata file as parsed: the model, and the canonical JSON of its `signed` object as the file
// holds it, computed once. Signatures are checked against these bytes, never against a model's
// re-serialisation (which costs a full canonicalisation of every target per signature).
export interface ParsedMetadata<T extends Signed = Signed> {
  readonly md: Metadata<T>;
  readonly signedBytes: Buffer;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

// Parses one metadata file at the boundary: cap the size before parsing, then JSON, then the model
// (from-json.ts), then the keys we can verify with. Every failure is a coded error, never a crash.
export function parseMetadata<K extends RoleKind>(kind: K, bytes: Uint8Array, maxLength: number, label: string): ParsedMetadata<SignedOf[K]> {
  if (bytes.length > maxLength) {
    throw new EdgesealError('OVERSIZED', `${label}: expected at most ${maxLength} bytes, found ${bytes.length}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw new EdgesealError('MALFORMED_METADATA', `${label}: expected JSON, found unparsable bytes (${(err as Error).message})`, { cause: err });
  }
  if (!isObject(json)) {
    throw new EdgesealError('MALFORMED_METADATA', `${label}: expected a JSON object, found ${Array.isArray(json) ? 'an array' : typeof json}`);
  }
  let md: Metadata<SignedOf[K]>;
  let signedBytes: Buffer;
  try {
    md = metadataFromJSON(kind, json);
    signedBytes = Buffer.from(canonicalize(json.signed));
  } catch (err) {
    throw new EdgesealError('MALFORMED_METADATA', `${label}: not valid ${kind} metadata: ${(err as Error).message}`, { cause: err });
  }
  if (kind === 'root') assertSupportedKeys((md.signed as Root).keys, label);
  const { delegations } = md.signed as Partial<Targets>;
  if (kind === 'targets' && delegations) assertSupportedKeys(delegations.keys, label);
  return { md, signedBytes };
}
