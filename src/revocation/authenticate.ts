import { asEdgesealError, EdgesealError } from '../core/errors.js';
import type { RevocationStatus, VerifiedTargetInfo } from './store.js';

// The cache file records a sha256 of its own list, which authenticates nothing: whoever can write the file
// can write a matching digest. The held list counts only when the metadata the offline verifier trusted
// from the TPM-pinned root names exactly these bytes. Pure.

// `named`: what that metadata says about the list (revocationTargetInfo), throwing when it cannot say.
// Undefined when the held list is authenticated, or when none was ever accepted and the metadata names
// none (the 'never' state, judged by onNever); otherwise REVOCATION_UNAUTHENTICATED saying what was
// expected and what is held: a list the metadata names but the device lacks is never "never fetched".
export function heldListProblem(status: RevocationStatus, named: () => VerifiedTargetInfo): EdgesealError | undefined {
  if (status.sha256 === undefined && status.highestVersion === 0 && !namesList(named)) return undefined;
  // a floor above zero with no list held: the cache was deleted or damaged after a list was accepted
  const held = status.sha256 === undefined ? (status.highestVersion ? `no cached list, although version ${status.highestVersion} was accepted before` : 'no cached list') : `cached list v${status.version ?? '?'} with sha256 ${status.sha256}`;
  let expected: VerifiedTargetInfo;
  try {
    expected = named();
  } catch (err) {
    const e = asEdgesealError(err);
    return new EdgesealError('REVOCATION_UNAUTHENTICATED', `revocation list: expected the metadata verified from the TPM-pinned root to name the held list, found [${e.code}] ${e.message}; held: ${held}`, { cause: e });
  }
  if (status.sha256 === expected.sha256) return undefined;
  return new EdgesealError(
    'REVOCATION_UNAUTHENTICATED',
    `revocation list: expected sha256 ${expected.sha256} (named by the metadata verified from the TPM-pinned root), found ${held} (the cache was tampered with, deleted or damaged, or a newer list is not fetched yet)`,
  );
}

// True when the metadata names a list; false when it names none or cannot be read (judged elsewhere).
function namesList(named: () => VerifiedTargetInfo): boolean {
  try {
    named();
    return true;
  } catch {
    return false;
  }
}
