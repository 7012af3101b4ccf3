import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Updater, type Fetcher } from 'tuf-js';
import { EdgesealError } from '../core/errors.js';
import type { RetrievalBounds } from '../io/retrieval-deadline.js';
import type { HttpTransport } from '../net/http-transport.js';
import { assertSafeTargetName } from '../repo/target-path.js';
import { writeFileAtomic } from '../store/atomic-write.js';
import { DirFetcher } from './fetchers/dir-fetcher.js';
import { HttpFetcher } from './fetchers/http-fetcher.js';
import { MAX_DELEGATIONS, MAX_ROOT_ROTATIONS, METADATA_MAX_LENGTH } from './limits.js';
import { fromTufError } from './tuf-errors.js';

// Where updates come from: an HTTP(S) mirror or a local directory (USB stick, factory image),
// both as URLs (file:// for directories).
export interface UpdateSource {
  readonly metadataUrl: string;
  readonly targetBaseUrl?: string;
  readonly transport?: HttpTransport; // for http(s) sources: TLS, proxy and bandwidth cap (default: plain)
  readonly bounds?: RetrievalBounds; // minimum rate per file and the run's abort signal (slow retrieval)
}

// A repository location as an operator writes it: an http(s) URL or a directory, holding metadata/ and targets/.
export function sourceAt(location: string, transport?: HttpTransport, bounds?: RetrievalBounds): UpdateSource {
  const base = /^https?:\/\//.test(location) ? location.replace(/\/+$/, '') : pathToFileURL(location).href.replace(/\/+$/, '');
  return { metadataUrl: `${base}/metadata`, targetBaseUrl: `${base}/targets`, ...(transport ? { transport } : {}), ...(bounds ? { bounds } : {}) };
}

export function fetcherFor(source: UpdateSource): Fetcher {
  if (source.metadataUrl.startsWith('file:')) {
    const urls = [source.metadataUrl, ...(source.targetBaseUrl ? [source.targetBaseUrl] : [])];
    if (!urls.every((u) => u.startsWith('file:'))) throw new EdgesealError('USAGE', 'expected metadata and targets both on a directory or both on http(s)');
    return new DirFetcher(urls.map((u) => fileURLToPath(u)), source.bounds);
  }
  return new HttpFetcher(source.transport, source.bounds);
}

export interface DeviceUpdaterOptions {
  readonly metadataDir: string; // must hold a trusted root.json
  readonly source: UpdateSource;
  readonly keepRootHistory?: boolean; // copy each accepted root to <metadataDir>/roots/N.root.json
}

export interface DeviceUpdater {
  readonly updater: Updater;
  // Runs the TUF client workflow (5.3–5.6); tuf-js errors come out as coded EdgesealErrors.
  refresh(): Promise<void>;
  // Client workflow 5.7: finds `name` in the delegation graph and stores it verified in targetDir
  // under its non-versioned (URL-encoded) name, reusing an already-verified copy.
  download(name: string, targetDir: string): Promise<{ path: string; cached: boolean }>;
  // One metadata file (e.g. `3.builder.json`) from the source's metadata/, capped at maxLength, unverified:
  // the caller verifies it before it goes anywhere near the cache.
  readonly fetchMetadata: (file: string, maxLength: number) => Promise<Uint8Array>;
}

// The one place a tuf-js Updater is built, for the agent and for `edgeseal tuf-client` alike, so the
// conformance suite exercises exactly the fetchers and size caps the device runs with.
export function createDeviceUpdater(opts: DeviceUpdaterOptions): DeviceUpdater {
  const recorded = new Map<number, Buffer>();
  const base = fetcherFor(opts.source);
  // Remembers the bytes of every N.root.json fetched, so the ones tuf-js accepts can join the history.
  const fetcher: Fetcher = opts.keepRootHistory
    ? {
        downloadFile: (url, max, handler) => base.downloadFile(url, max, handler),
        downloadBytes: async (url, max) => {
          const bytes = await base.downloadBytes(url, max);
          const m = /\/(\d+)\.root\.json$/.exec(url);
          if (m) recorded.set(Number(m[1]), bytes);
          return bytes;
        },
      }
    : base;
  let updater: Updater;
  try {
    updater = new Updater({
      metadataDir: opts.metadataDir,
      metadataBaseUrl: opts.source.metadataUrl,
      ...(opts.source.targetBaseUrl ? { targetBaseUrl: opts.source.targetBaseUrl } : {}),
      fetcher,
      config: {
        maxRootRotations: MAX_ROOT_ROTATIONS,
        maxDelegations: MAX_DELEGATIONS,
        rootMaxLength: METADATA_MAX_LENGTH.root,
        timestampMaxLength: METADATA_MAX_LENGTH.timestamp,
        snapshotMaxLength: METADATA_MAX_LENGTH.snapshot,
        targetsMaxLength: METADATA_MAX_LENGTH.targets,
      },
    });
  } catch (err) {
    throw fromTufError(err);
  }
  return {
    updater,
    fetchMetadata: (file, maxLength) => tuf(() => base.downloadBytes(`${opts.source.metadataUrl.replace(/\/+$/, '')}/${file}`, maxLength)),
    download: async (name, targetDir) => {
      assertSafeTargetName(name);
      const info = await tuf(() => updater.getTargetInfo(name));
      if (!info) throw new EdgesealError('UNKNOWN_TARGET', `expected a target named ${JSON.stringify(name)} in the repository, found none`);
      await mkdir(targetDir, { recursive: true });
      const dest = join(targetDir, encodeURIComponent(name));
      const existing = await lstat(dest).catch(() => undefined);
      if (existing && !existing.isFile()) throw new EdgesealError('UNSAFE_PATH', `${dest}: expected a regular file or nothing, found a symlink or another file type`);
      if (existing && (await updater.findCachedTarget(info, dest))) return { path: dest, cached: true };
      // tuf-js copies into the path it is given; a fresh name plus rename never writes through a link
      const part = join(targetDir, `.${randomBytes(8).toString('hex')}.part`);
      try {
        await tuf(() => updater.downloadTarget(info, part));
        await rename(part, dest);
      } finally {
        await rm(part, { force: true });
      }
      return { path: dest, cached: false };
    },
    refresh: async () => {
      try {
        await tuf(() => updater.refresh());
      } catch (err) {
        // roots accepted before a later step failed are still trusted: record them, report the failure
        if (opts.keepRootHistory) await recordRoots(opts.metadataDir, recorded).catch(() => undefined);
        throw err;
      }
      if (opts.keepRootHistory) await recordRoots(opts.metadataDir, recorded);
    },
  };
}

async function tuf<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw fromTufError(err);
  }
}

// Persists the roots tuf-js accepted: every fetched version up to the one now in root.json.
async function recordRoots(metadataDir: string, recorded: ReadonlyMap<number, Buffer>): Promise<void> {
  const current = await readFile(join(metadataDir, 'root.json'));
  const version = (JSON.parse(current.toString('utf8')) as { signed?: { version?: unknown } }).signed?.version;
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) {
    throw new EdgesealError('MALFORMED_METADATA', `${metadataDir}/root.json: expected a root with a positive version, found ${String(version)}`);
  }
  const dir = join(metadataDir, 'roots');
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(join(dir, `${version}.root.json`), current);
  for (const [v, bytes] of recorded) {
    if (v < version) await writeFileAtomic(join(dir, `${v}.root.json`), bytes);
  }
}

// Initialises a metadata dir with a trusted root (what `tuf-client init` and provisioning do).
export async function initMetadataDir(metadataDir: string, trustedRoot: Uint8Array, keepRootHistory = false): Promise<void> {
  await mkdir(metadataDir, { recursive: true });
  await writeFileAtomic(join(metadataDir, 'root.json'), trustedRoot);
  if (keepRootHistory) await recordRoots(metadataDir, new Map());
}
