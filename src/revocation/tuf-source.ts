import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { TargetFile } from '@tufjs/models';
import { EdgesealError } from '../core/errors.js';
import { resolveTarget } from '../tuf/offline/delegations.js';
import type { TrustedMetadata } from '../tuf/offline/types.js';
import { fromTufError } from '../tuf/tuf-errors.js';
import { MAX_REVOCATION_LIST_BYTES, REVOCATION_TARGET_NAME } from './list.js';
import type { VerifiedTargetInfo } from './store.js';

// The list's authenticity rides on TUF: these two functions ask a TUF client what it vouches for.

// Fetches `revocations/list.json` through TUF and returns the bytes with the info TUF authenticated.
export type FetchVerifiedList = () => Promise<{ bytes: Uint8Array; info: VerifiedTargetInfo }>;

export interface AuthenticatedListInfo extends VerifiedTargetInfo {
  readonly signedBy: { readonly role: string; readonly keyids: readonly string[] };
}

function sha256Of(name: string, hashes: Readonly<Record<string, string>>, length: number): VerifiedTargetInfo {
  const sha256 = hashes.sha256?.toLowerCase();
  if (sha256 === undefined || !/^[0-9a-f]{64}$/.test(sha256)) {
    throw new EdgesealError('MALFORMED_METADATA', `${name}: expected a sha256 in its TUF target entry, found ${JSON.stringify(hashes)}`);
  }
  // Capped from the signed length, before anything is downloaded or read.
  if (length > MAX_REVOCATION_LIST_BYTES) throw new EdgesealError('OVERSIZED', `${name}: expected at most ${MAX_REVOCATION_LIST_BYTES} bytes, TUF metadata says ${length}`);
  return { length, sha256 };
}

// Offline (pure): what the verified metadata says about `revocations/list.json`, e.g. to re-check a list
// carried on a USB stick. Uses the delegation walk directly because the list is not an image.
export function revocationTargetInfo(trusted: TrustedMetadata, now: Date): AuthenticatedListInfo {
  const { target, role, keyids } = resolveTarget(trusted, REVOCATION_TARGET_NAME, now);
  return { ...sha256Of(REVOCATION_TARGET_NAME, target.hashes, target.length), signedBy: { role, keyids } };
}

// The part of a tuf-js Updater this needs; getTargetInfo runs the client workflow (5.3–5.6) first.
export interface TargetClient {
  getTargetInfo(name: string): Promise<TargetFile | undefined>;
  downloadTarget(info: TargetFile, filePath?: string): Promise<string>;
}

// Online: a FetchVerifiedList over a fresh TUF client per attempt (HTTP mirror or folder fetcher).
// tuf-js checks the download against the signed length and hashes; the store checks again.
export function fetchViaTuf(openClient: () => Promise<TargetClient> | TargetClient, downloadDir: string): FetchVerifiedList {
  return async () => {
    const client = await openClient();
    const path = join(downloadDir, `.revocations-list.${randomBytes(6).toString('hex')}.download`);
    try {
      const file = await client.getTargetInfo(REVOCATION_TARGET_NAME);
      if (!file) throw new EdgesealError('UNKNOWN_TARGET', `expected ${REVOCATION_TARGET_NAME} in the TUF repository, found none`);
      const info = sha256Of(REVOCATION_TARGET_NAME, file.hashes, file.length);
      await mkdir(downloadDir, { recursive: true });
      await client.downloadTarget(file, path);
      return { bytes: await readFile(path), info };
    } catch (err) {
      // tuf-js reports bad signatures, rollback and expiry with its own classes: map them to our codes.
      throw fromTufError(err);
    } finally {
      await rm(path, { force: true });
    }
  };
}
