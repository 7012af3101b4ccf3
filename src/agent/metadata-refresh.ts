import { join } from 'node:path';
import { EdgesealError, isEdgesealError } from '../core/errors.js';
import { effectiveTime } from '../core/time-floor.js';
import type { RetrievalBounds } from '../io/retrieval-deadline.js';
import { authenticateList, namedList, PROMOTED_LIST_PATH, readPromotedList, type HeldList } from '../revocation/promoted-list.js';
import { fetchViaTuf } from '../revocation/tuf-source.js';
import { cachePcrPolicies } from '../pcrpolicy/cache.js';
import { nodeCacheFs, type CacheFs } from '../tuf/cache/cache-fs.js';
import { collectGenerations, newGeneration, promote, promotedGeneration, promotedPath, type CacheStep } from '../tuf/cache/generations.js';
import { readSeed, writeSeed } from '../tuf/cache/seed.js';
import { refreshDelegatedRoles } from '../tuf/delegated-refresh.js';
import { readMetadataDir } from '../tuf/metadata-files.js';
import { loadTrustedMetadata } from '../tuf/offline/load-trusted.js';
import type { TrustedMetadata } from '../tuf/offline/types.js';
import { createDeviceUpdater, sourceAt, type DeviceUpdater } from '../tuf/updater.js';
import type { Device } from './device.js';
import { raiseMetadataFloors } from './root-floor.js';
import { raisePersistedTimeFloor, readTimeFloor } from './time-floor-store.js';
import { updateTransport } from './update-transport.js';

// Refresh-and-promote (ARCHITECTURE P3, P7): tuf-js refreshes into a new generation seeded from the
// promoted set's verified root chain; only a complete set that verifies from the TPM-pinned root at
// the TPM floors is promoted (fsync, link swap by rename, fsync); only then do the floors rise. Any
// failure removes the new generation: the promoted set, which the boot check reads, never changes.

// The configured slow-retrieval bounds, tied to a run's signal.
export function retrievalBounds(dev: Device, signal?: AbortSignal): RetrievalBounds {
  const u = dev.config.update;
  return { minBytesPerSecond: u.minBytesPerSecond, floorSeconds: u.retrievalFloorSeconds, ...(signal ? { signal } : {}) };
}

export interface RefreshHooks {
  readonly fs?: CacheFs; // the filesystem port (tests record the order of writes, fsyncs and renames)
  readonly step?: (step: CacheStep) => void | Promise<void>; // called after each named step (crash tests)
  // `cache repair`: start from the pinned root alone, ignoring whatever the promoted set holds
  readonly fromPinnedRoot?: boolean;
  readonly signal?: AbortSignal; // the run's stop: ends the whole refresh (slow-retrieval bounds per file)
}

export interface PromotedSet {
  readonly dir: string;
  readonly trusted: TrustedMetadata;
  readonly updater: DeviceUpdater;
  readonly list: HeldList | undefined; // the revocation list the set's metadata names, authenticated
}

export async function refreshMetadata(dev: Device, from: string, hooks: RefreshHooks = {}): Promise<PromotedSet> {
  const fs = hooks.fs ?? nodeCacheFs;
  const step = async (s: CacheStep): Promise<void> => void (await hooks.step?.(s));
  const cacheDir = dev.paths.metadataCache;
  await fs.mkdir(cacheDir);
  await collectGenerations(fs, cacheDir); // leftovers of a refresh that was killed
  const floors = await dev.trust.readFloors();
  const tpmFloors = { rootVersion: floors.rootVersion, targetsVersion: floors.targetsVersion };
  const now = effectiveTime(dev.clock(), await readTimeFloor(dev));
  const promoted = hooks.fromPinnedRoot ? undefined : await promotedGeneration(cacheDir);
  const seed = await readSeed(promoted?.dir, dev.trust.initialRoot, tpmFloors, now, async (t) => {
    const held = await readPromotedList(promoted!.dir, t, now).catch(() => undefined);
    return new Map(held ? [[PROMOTED_LIST_PATH, held.bytes]] : []);
  });
  const gen = await newGeneration(fs, cacheDir);
  let set: PromotedSet;
  try {
    await writeSeed(fs, gen.dir, seed);
    await step('seeded');
    const transport = await updateTransport(dev.config, dev.bandwidth);
    const updater = createDeviceUpdater({ metadataDir: gen.dir, source: sourceAt(from, transport, retrievalBounds(dev, hooks.signal)), keepRootHistory: true });
    await updater.refresh();
    await step('fetched');
    await refreshDelegated(dev, gen.dir, updater, now);
    await step('delegated');
    // the whole set as the boot check will read it, from the pinned root, at the TPM floors, unexpired
    const trusted = loadTrustedMetadata(await readMetadataDir(gen.dir, { initialRoot: dev.trust.initialRoot }), { now, expiry: 'enforce', floors: tpmFloors });
    for (const [role, r] of trusted.rejected) throw new EdgesealError(r.code, `metadata set not promoted: delegated role ${role}: ${r.message}`);
    const list = await fetchNamedList(fs, gen.dir, trusted, updater, seed.files.get(PROMOTED_LIST_PATH), floors.revocationVersion, now);
    await step('revocation-list');
    const policies = await cachePcrPolicies({ fs, genDir: gen.dir, promotedDir: promoted?.dir, updater, downloadDir: join(dev.paths.staging, 'pcr-policies') }, trusted, now);
    for (const r of policies.rejected) dev.logger.child({ component: 'update' }).warn(`PCR policy target ${r.name} not cached [${r.code}] ${r.message}`);
    set = { dir: promotedPath(cacheDir), trusted, updater, list };
    await step('verified');
    await promote(fs, cacheDir, gen, step);
  } catch (err) {
    await fs.remove(gen.dir).catch(() => undefined);
    throw err;
  }
  // tuf-js accepted an unexpired timestamp at this clock: the newest time the device has seen (P5)
  await raisePersistedTimeFloor(dev, dev.clock(), 'TUF metadata refresh');
  await raiseMetadataFloors(dev, { rootVersion: set.trusted.root.signed.version, targetsVersion: set.trusted.roles.get('targets')!.md.signed.version }, 'metadata set promoted');
  await step('floors-raised');
  await collectGenerations(fs, cacheDir);
  await step('collected');
  return set;
}

// Every delegated role the new snapshot names must verify: a set with one stale role would fail the
// boot check of an image that role signed, so one failed role blocks promotion (docs/metadata-cache.md).
async function refreshDelegated(dev: Device, dir: string, updater: DeviceUpdater, now: Date): Promise<void> {
  const delegated = await refreshDelegatedRoles({ metadataDir: dir, initialRoot: dev.trust.initialRoot, fetchMetadata: updater.fetchMetadata, now });
  for (const f of delegated.failed) {
    dev.logger.child({ component: 'update' }).warn(`delegated role ${f.role} not refreshed [${f.code}] ${f.message}`);
    await dev.report({ type: 'update-check', verdict: 'error', code: f.code, detail: `delegated role ${f.role}: ${f.message}`.slice(0, 512) });
  }
  const first = delegated.failed[0];
  if (first) throw new EdgesealError(first.code, `metadata set not promoted: delegated role ${first.role} did not refresh: ${first.message}`);
}

// The revocation list the new metadata names, in the generation: kept from the seed when the same bytes
// are named, else fetched through tuf-js; either way checked against the pinned-root metadata.
async function fetchNamedList(fs: CacheFs, dir: string, trusted: TrustedMetadata, updater: DeviceUpdater, seeded: Uint8Array | undefined, floor: number, now: Date): Promise<HeldList | undefined> {
  const info = namedList(trusted, now);
  if (!info) return undefined;
  const where = 'revocation list for the new metadata set';
  const path = join(dir, PROMOTED_LIST_PATH);
  let held: HeldList;
  try {
    held = authenticateList(seeded, info, where);
  } catch (err) {
    if (!isEdgesealError(err, 'REVOCATION_UNAUTHENTICATED')) throw err;
    const { bytes } = await fetchViaTuf(() => updater.updater, dir)();
    held = authenticateList(bytes, info, where);
    await fs.remove(path);
    await fs.mkdir(join(dir, 'revocations'));
    await fs.writeFile(path, bytes);
  }
  if (held.list.version < floor) throw new EdgesealError('ROLLBACK', `${where}: expected version ≥ ${floor} (the TPM revocation floor), found ${held.list.version}`);
  return held;
}
