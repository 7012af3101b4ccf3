import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { EdgesealError, isEdgesealError } from '../core/errors.js';
import type { TrustedMetadata } from '../tuf/offline/types.js';
import { readCapped } from '../tuf/metadata-files.js';
import { MAX_REVOCATION_LIST_BYTES, parseRevocationList, type RevocationList } from './list.js';
import { revocationTargetInfo, type AuthenticatedListInfo } from './tuf-source.js';

// The revocation list is part of the promoted metadata set (ARCHITECTURE "Local state"): the bytes the
// promoted metadata names, kept at <generation>/revocations/list.json and re-checked against that
// metadata (verified from the TPM-pinned root) every time they are used.
export const PROMOTED_LIST_PATH = join('revocations', 'list.json');

export interface HeldList {
  readonly bytes: Uint8Array;
  readonly info: AuthenticatedListInfo;
  readonly list: RevocationList;
}

// What the metadata names; undefined when it names no list (the publisher has none).
export function namedList(trusted: TrustedMetadata, now: Date): AuthenticatedListInfo | undefined {
  try {
    return revocationTargetInfo(trusted, now);
  } catch (err) {
    if (isEdgesealError(err, 'UNKNOWN_TARGET')) return undefined;
    throw err;
  }
}

// The list `bytes` if they are exactly what `info` names; REVOCATION_UNAUTHENTICATED otherwise.
export function authenticateList(bytes: Uint8Array | undefined, info: AuthenticatedListInfo, where: string): HeldList {
  if (!bytes) throw new EdgesealError('REVOCATION_UNAUTHENTICATED', `${where}: expected the revocation list the metadata names (sha256 ${info.sha256}), found none`);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (bytes.length !== info.length || sha256 !== info.sha256) {
    throw new EdgesealError('REVOCATION_UNAUTHENTICATED', `${where}: expected ${info.length} bytes with sha256 ${info.sha256} (named by the metadata verified from the TPM-pinned root), found ${bytes.length} bytes with sha256 ${sha256}`);
  }
  return { bytes, info, list: parseRevocationList(bytes) };
}

// The promoted generation's list, authenticated; undefined when the metadata names none.
export async function readPromotedList(dir: string, trusted: TrustedMetadata, now: Date): Promise<HeldList | undefined> {
  const info = namedList(trusted, now);
  if (!info) return undefined;
  const path = join(dir, PROMOTED_LIST_PATH);
  const bytes = await readCapped(path, MAX_REVOCATION_LIST_BYTES).catch(() => undefined);
  return authenticateList(bytes, info, path);
}
