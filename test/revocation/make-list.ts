import { createHash } from 'node:crypto';
import { serializeRevocationList, type RevocationList } from '../../src/revocation/list.js';
import type { VerifiedTargetInfo } from '../../src/revocation/store.js';

export const KEY_A = 'a'.repeat(64);
export const KEY_B = 'b'.repeat(64);
export const BAD_DIGEST = 'd'.repeat(64);

// A valid list issued 2026-01-01, expiring 2026-02-01, with overrides for the field under test.
export function makeList(over: Partial<RevocationList> = {}): RevocationList {
  return {
    _type: 'edgeseal-revocations',
    version: 1,
    issued: '2026-01-01T00:00:00Z',
    expires: '2026-02-01T00:00:00Z',
    keys: [],
    digests: [],
    minimumVersions: [],
    ...over,
  };
}

// The list's bytes plus the target info TUF would have authenticated for exactly those bytes.
export function signedBytes(list: RevocationList): { bytes: Uint8Array; info: VerifiedTargetInfo } {
  const bytes = serializeRevocationList(list);
  return { bytes, info: { length: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') } };
}

export const at = (iso: string): Date => new Date(iso);
