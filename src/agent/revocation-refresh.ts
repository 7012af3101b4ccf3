import { asEdgesealError, EdgesealError } from '../core/errors.js';
import { heldListProblem } from '../revocation/authenticate.js';
import type { CacheStatus } from '../revocation/cache.js';
import { REVOCATION_TARGET_NAME } from '../revocation/list.js';
import { decideFreshness, type FreshnessDecision } from '../revocation/policy.js';
import { revocationTargetInfo } from '../revocation/tuf-source.js';
import type { Device } from './device.js';
import type { PromotedSet } from './metadata-refresh.js';
import { announceFreshness, revocationRef } from './revocation-freshness.js';
import { raisePersistedTimeFloor } from './time-floor-store.js';

// The one revocation refresh the update check, the daemon's cron job and fleet nudge, and
// `edgeseal revocations refresh` share: take the list from the freshly promoted metadata set, accept into the cache
// (atomic replace), raise the TPM floor on a newer version, log and report. A failure keeps the cached list.

type Fetched =
  | { readonly ok: true; readonly version: number; readonly changed: boolean; readonly floorRaised: boolean }
  // published: false when the verified TUF metadata holds no list at all (the publisher has none yet)
  | { readonly ok: false; readonly error: EdgesealError; readonly published: boolean };

export type RevocationRefreshOutcome = Fetched & {
  readonly status: CacheStatus; // what the device holds afterwards
  readonly update: FreshnessDecision; // what that means for updates now
};

// `openSet` refreshes and promotes (or hands over the already promoted) metadata set, which holds the list
// its metadata names; its failures are outcomes too.
export async function refreshRevocations(dev: Device, openSet: () => Promise<PromotedSet>): Promise<RevocationRefreshOutcome> {
  const log = dev.logger.child({ component: 'revocation' });
  const before = dev.revocations.status(dev.clock()).version;
  let result: Fetched;
  try {
    const set = await openSet();
    if (!set.list) throw new EdgesealError('UNKNOWN_TARGET', `expected ${REVOCATION_TARGET_NAME} in the TUF repository, found none`);
    const { bytes, info } = set.list;
    // part of the promoted set, vouched for from the pinned root: a different held list under the same version is the forgery (H1)
    const list = await dev.revocations.accept(bytes, info, dev.clock(), { supersede: true });
    // signed evidence of time: the list cannot have been issued after the present (P5)
    await raisePersistedTimeFloor(dev, new Date(list.issued), `revocation list v${list.version} issued`);
    // the list's version is anti-rollback too: the TPM floor makes the cache's own floor survive a disk restore
    const floor = (await dev.trust.readFloors()).revocationVersion;
    if (list.version > floor) await dev.trust.raiseFloor('revocationVersion', list.version);
    result = { ok: true, version: list.version, changed: list.version !== before, floorRaised: list.version > floor };
  } catch (err) {
    const error = asEdgesealError(err, 'FETCH_FAILED');
    result = { ok: false, error, published: error.code !== 'UNKNOWN_TARGET' };
  }
  const now = dev.clock();
  const status = dev.revocations.status(now);
  await record(dev, result, status);
  const unauthenticated = await heldListCheck(dev, status, now);
  // "none published" was just said (record); anything else is announced for the update it gates
  let update = !result.ok && !result.published ? decideFreshness(status, 'update', dev.freshness, unauthenticated) : await announceFreshness(dev, 'update', now, unauthenticated);
  // onNever=allow covers a repository that publishes no list; one that publishes a list the device
  // cannot verify (forged, replayed, swapped) must not let the first update through unchecked.
  if (!result.ok && result.published && status.state === 'never' && update.proceed) {
    const error = new EdgesealError('REVOCATION_STALE', `update blocked: expected the published revocation list to verify before the first update, found [${result.error.code}] ${result.error.message}`);
    log.error(error.message, { code: error.code });
    update = { proceed: false, level: 'alarm', state: 'never', error };
  }
  return { ...result, status, update };
}

// The held list (or its absence after one was accepted) against the metadata verified from the TPM-pinned
// root, whatever the refresh did: a cache the device cannot authenticate never gates an update as fresh.
async function heldListCheck(dev: Device, status: CacheStatus, now: Date): Promise<EdgesealError | undefined> {
  // signatures, not expiry, authenticate the list: expiry is judged by the freshness policy and the gate
  const named = await dev.createImageVerifier(now, 'ignore').then(
    (v) => () => revocationTargetInfo(v.trusted, now),
    (err: unknown) => () => {
      throw err;
    },
  );
  return heldListProblem(status, named);
}

async function record(dev: Device, result: Fetched, status: CacheStatus): Promise<void> {
  const log = dev.logger.child({ component: 'revocation' });
  const revocation = revocationRef(status);
  if (result.ok) {
    log.info(`revocation list version ${result.version} ${result.changed ? 'accepted' : 'unchanged'}${result.floorRaised ? `; TPM floor raised to ${result.version}` : ''}`);
    await dev.report({ type: 'revocation-refresh', verdict: 'ok', ...(revocation ? { revocation } : {}) });
    return;
  }
  const { error } = result;
  const held = status.version === undefined ? 'no list held' : `keeping cached list version ${status.version}`;
  let detail = `${held}: ${error.message}`;
  if (!result.published) {
    const updates = status.version !== undefined ? `the cached list version ${status.version} stays enforced` : dev.freshness.onNever === 'allow' ? 'updates proceed unchecked' : 'updates are blocked';
    detail = `NO REVOCATION LIST published in the repository: ${updates} (revocation.onNever=${dev.freshness.onNever})`;
    log.warn(detail);
  } else {
    log.warn(`revocation refresh failed, ${held} [${error.code}] ${error.message}`, { code: error.code });
  }
  await dev.report({ type: 'revocation-refresh', verdict: 'error', code: error.code, ...(revocation ? { revocation } : {}), detail: detail.slice(0, 512) });
}
