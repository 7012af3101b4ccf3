import { execFile } from 'node:child_process';
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { AgentConfig, ImageConfig } from '../config/schema.js';
import { asEdgesealError, EdgesealError, isEdgesealError } from '../core/errors.js';
import type { Logger } from '../log/logger.js';
import { RateLimiter } from '../net/throttle.js';
import type { BootSelector } from '../ota/boot-selector.js';
import { BlockSlotBackend } from '../ota/slot-block.js';
import { FileSlotBackend } from '../ota/slot-file.js';
import type { SlotBackend } from '../ota/slot.js';
import { RevocationCache } from '../revocation/cache.js';
import { readPromotedList } from '../revocation/promoted-list.js';
import type { FreshnessPolicy } from '../revocation/policy.js';
import { createEventSigner } from '../telemetry/envelope.js';
import type { FleetCommand } from '../telemetry/command.js';
import type { EventInput } from '../telemetry/event.js';
import { DiskOutboxStore } from '../telemetry/outbox/disk-store.js';
import { acquireOutboxLock, type OutboxLock } from '../telemetry/outbox/lock.js';
import { drainSpool, spoolDir, spoolEvent } from '../telemetry/spool.js';
import { DEFAULT_LIMITS, Outbox } from '../telemetry/outbox/outbox.js';
import { TelemetryReporter } from '../telemetry/reporter.js';
import { startTelemetry, type TelemetryService } from '../telemetry/service.js';
import { TpmClient } from '../tpm/client.js';
import { DEFAULT_TPM_DEVICE } from '../tpm/transport.js';
import { establishTrust, type Trust } from '../trust/establish.js';
import { readOwnerAuthFile } from '../trust/owner-auth.js';
import { readMetadataDir } from '../tuf/metadata-files.js';
import { loadTrustedMetadata } from '../tuf/offline/load-trusted.js';
import type { ExpiryPolicy } from '../tuf/offline/types.js';
import { agentPaths, type AgentPaths } from './agent-state.js';
import { bootSelectorFrom } from './boot-selector-config.js';
import { migrateLegacyCache } from './cache-migrate.js';
import { deviceReport, type FactsSources } from './device-facts.js';
import { buildImageVerifier, type ImageVerifier } from './image-verifier.js';

const exec = promisify(execFile);

// The composition root: one typed object holding every adapter the agent's flows use, opened from
// the config in one place (no singletons). Closing it flushes telemetry and releases the TPM.

export type TelemetryMode = 'publish' | 'outbox' | 'off';

export interface DeviceOptions {
  readonly config: AgentConfig;
  readonly logger: Logger;
  readonly clock?: () => Date;
  readonly telemetry: TelemetryMode;
  // runs the configured reboot command; tests and the demo inject their own "reboot"
  readonly reboot?: (argv: readonly string[]) => Promise<void>;
  // a fleet nudge arrived on the cmd topic (already parsed and reported by the telemetry reporter)
  readonly onCommand?: (cmd: FleetCommand) => void;
  // how long to wait for another process's outbox lock (default: 60 s for the daemon, 5 s one-shot)
  readonly outboxLockWaitMs?: number;
}

export interface AbImage {
  readonly image: ImageConfig;
  readonly slots: SlotBackend;
  readonly selector: BootSelector;
}

// A state dir that cannot be written (read-only, full) degrades the device instead of stopping it:
// the boot check still decides from the cache and the TPM, verdicts go to the spool under runDir.
export type StorageHealth = { readonly ok: true } | { readonly ok: false; readonly code: 'STORAGE_ERROR'; readonly message: string };

export interface Device {
  readonly config: AgentConfig;
  readonly storage: StorageHealth;
  readonly logger: Logger;
  readonly clock: () => Date;
  readonly tpm: TpmClient;
  readonly trust: Trust;
  readonly paths: AgentPaths;
  readonly revocations: RevocationCache;
  readonly freshness: FreshnessPolicy;
  readonly ab: AbImage | undefined;
  readonly telemetry: TelemetryService | undefined;
  // update.maxBytesPerSecond, shared by every update-path transfer of this process (src/agent/update-transport.ts)
  readonly bandwidth: RateLimiter | undefined;
  // Loads the trusted metadata cache from the TPM-pinned root (floors as in the TPM now) and returns
  // the synchronous verifier built on it.
  createImageVerifier(now: Date, expiry: ExpiryPolicy): Promise<ImageVerifier>;
  // Records a signed telemetry event in the durable outbox; never throws (a failure is logged).
  report(event: EventInput): Promise<void>;
  reboot(reason: string): Promise<void>;
  close(): Promise<void>;
}

export function tpmConfig(config: AgentConfig): { swtpm: string } | { device: string } {
  return config.tpm.swtpm ? { swtpm: config.tpm.swtpm } : { device: config.tpm.device ?? DEFAULT_TPM_DEVICE };
}

// The configured reboot command, run as argv without a shell.
export const execReboot = async (argv: readonly string[]): Promise<void> => void (await exec(argv[0], argv.slice(1)));

// File slots for regular files (app bundles, tests), partition slots for block devices.
export async function slotBackend(slots: { a: string; b: string }): Promise<SlotBackend> {
  const paths = { A: slots.a, B: slots.b };
  const st = await stat(slots.a).catch(() => undefined);
  return st?.isBlockDevice() ? new BlockSlotBackend(paths) : new FileSlotBackend(paths);
}

// Events into the durable outbox only: one-shot commands leave publishing to the daemon.
async function openReporter(config: AgentConfig, trust: Trust, clock: () => Date): Promise<{ reporter: TelemetryReporter; outbox: Outbox }> {
  const outbox = await Outbox.open(new DiskOutboxStore(join(config.stateDir, 'outbox')), { ...DEFAULT_LIMITS, maxBytes: config.telemetry.outboxMaxBytes });
  return { reporter: new TelemetryReporter({ outbox, signer: createEventSigner(trust.reportSeed), deviceId: config.deviceId, fleet: config.fleet, clock }), outbox };
}

function startPublishing(config: AgentConfig, facts: FactsSources & { trust: Trust }, log: Logger, onCommand?: (cmd: FleetCommand) => void): Promise<TelemetryService> {
  const { trust, clock } = facts;
  const t = config.telemetry;
  if (!t.broker) log.warn('telemetry.broker is not set: events wait in the outbox (bounded by telemetry.outboxMaxBytes) until a broker is configured');
  return startTelemetry(
    {
      deviceId: config.deviceId,
      fleet: config.fleet,
      prefix: t.prefix,
      stateDir: config.stateDir,
      limits: { ...DEFAULT_LIMITS, maxBytes: t.outboxMaxBytes },
      metricsCron: t.metricsSchedule,
      ...(t.collectorKey ? { collectorKey: Uint8Array.from(Buffer.from(t.collectorKey, 'hex')) } : {}),
      ...(t.broker ? { broker: { url: t.broker, username: t.username, password: t.password, caFile: t.ca, certFile: t.cert, keyFile: t.key } } : {}),
    },
    {
      seed: trust.reportSeed,
      clock,
      onState: (state, err) => (err ? log.warn(`broker ${state}`, { code: err.code, error: err.message }) : log.info(`broker ${state}`)),
      onError: (err) => log.warn('telemetry error', { error: asEdgesealError(err).message }),
      facts: () => deviceReport(facts),
      ...(onCommand ? { onCommand } : {}),
    },
  );
}

export async function openDevice(opts: DeviceOptions): Promise<Device> {
  const { config, logger } = opts;
  const clock = opts.clock ?? (() => new Date());
  const log = logger.child({ component: 'device' });
  // one writer per outbox (it hands out sequence numbers), taken before the TPM so that a one-shot
  // command next to the running agent fails fast with OUTBOX_LOCKED (docs/telemetry.md)
  const waitMs = opts.outboxLockWaitMs ?? (opts.telemetry === 'publish' ? 60_000 : 5_000);
  let lock: OutboxLock | undefined;
  let storage: StorageHealth = { ok: true };
  if (opts.telemetry !== 'off') {
    try {
      lock = await acquireOutboxLock(join(config.stateDir, 'outbox'), { waitMs });
    } catch (err) {
      if (!isEdgesealError(err, 'STORAGE_ERROR')) throw err;
      storage = { ok: false, code: 'STORAGE_ERROR', message: `state dir ${config.stateDir} not writable: ${err.message}` };
      log.warn(`[STORAGE_ERROR] ${storage.message}; verifying anyway, verdicts spooled to ${spoolDir(config.runDir)}`);
    }
  }
  const degraded = !storage.ok;
  if (degraded) await mkdir(config.runDir, { recursive: true, mode: 0o700 }).catch((err: unknown) => log.warn(`runDir ${config.runDir}: ${(err as Error).message}`));
  const tpm = await TpmClient.open(tpmConfig(config)).catch(async (err: unknown) => {
    await lock?.release();
    throw err;
  });
  let trust: Trust;
  try {
    const ownerAuth = config.tpm.ownerAuthFile ? await readOwnerAuthFile(config.tpm.ownerAuthFile, 'tpm.ownerAuthFile', 'CONFIG_INVALID') : undefined;
    // the event log is per boot: with the state dir unwritable it lives under runDir for this boot
    const eventLog = degraded ? { eventLogPath: join(config.runDir, 'measurements.jsonl') } : {};
    trust = await establishTrust({ tpm, stateDir: config.stateDir, measurementPcr: config.tpm.measurePcr, ownerAuth, ...eventLog });
    if (trust.identity.hardwareId !== config.hardwareId) {
      throw new EdgesealError('ANCHOR_MISMATCH', `hardware id: expected ${trust.identity.hardwareId} (pinned in the TPM), found ${config.hardwareId} in the config`);
    }
  } catch (err) {
    await tpm.close();
    await lock?.release();
    throw err;
  }
  const paths = agentPaths(config.stateDir);
  // a device provisioned before generations: its cache moves into the promoted layout before anything reads it
  await migrateLegacyCache({ cacheDir: paths.metadataCache, stateDir: config.stateDir, initialRoot: trust.initialRoot, floors: trust.floors, now: clock() }).then(
    (moved) => moved && log.info(`metadata cache moved into the promoted layout (${paths.metadataDir})`),
    (err: unknown) => log.warn('could not move the metadata cache into the promoted layout', { error: asEdgesealError(err).message }),
  );
  const { graceDays, onExpired, onNever } = config.revocation;
  const freshness: FreshnessPolicy = { graceDays, onExpired, onNever };
  const abConfig = config.images.find((i) => i.path === undefined);
  const { slots: slotPaths, bootSelector } = config.update;
  let revocations: RevocationCache, ab: AbImage | undefined, telemetry: TelemetryService | undefined, local: Awaited<ReturnType<typeof openReporter>> | undefined;
  try {
    revocations = await RevocationCache.open({ stateDir: config.stateDir, graceDays: config.revocation.graceDays, floorVersion: trust.floors.revocationVersion, readOnly: degraded });
    ab = abConfig && slotPaths && bootSelector ? { image: abConfig, slots: await slotBackend(slotPaths), selector: bootSelectorFrom(bootSelector) } : undefined;
    telemetry = opts.telemetry === 'publish' && !degraded ? await startPublishing(config, { ab, paths, trust, revocations, clock }, logger.child({ component: 'telemetry' }), opts.onCommand) : undefined;
    local = opts.telemetry === 'outbox' && !degraded ? await openReporter(config, trust, clock) : undefined;
  } catch (err) {
    await tpm.close(); // the one-client swtpm (and the device) must be free for the next attempt
    await lock?.release();
    throw err;
  }
  const reporter = telemetry?.reporter ?? local?.reporter;
  // verdicts a degraded run spooled (this process earlier, or the one-shot boot check) join the outbox now
  if (reporter) {
    await drainSpool(config.runDir, (e) => reporter.record(e).then(() => undefined)).then(
      (d) => (d.recorded || d.rejected.length ? log.info(`spool drained: ${d.recorded} event(s) recorded, ${d.rejected.length} unreadable removed`, { rejected: d.rejected }) : undefined),
      (err: unknown) => log.warn('spool not drained', { error: asEdgesealError(err).message }),
    );
  }
  const runReboot = opts.reboot ?? execReboot;

  return {
    config,
    storage,
    logger,
    clock,
    tpm,
    trust,
    paths,
    revocations,
    freshness,
    ab,
    telemetry,
    bandwidth: config.update.maxBytesPerSecond ? new RateLimiter(config.update.maxBytesPerSecond) : undefined,
    async createImageVerifier(now, expiry) {
      const floors = await trust.readFloors();
      const files = await readMetadataDir(paths.metadataDir, { initialRoot: trust.initialRoot });
      const trusted = loadTrustedMetadata(files, { now, expiry, floors: { rootVersion: floors.rootVersion, targetsVersion: floors.targetsVersion } });
      // the list inside the promoted set, when it is what that metadata names: enforced whatever the cache file says
      const promotedList = (await readPromotedList(paths.metadataDir, trusted, now).catch(() => undefined))?.list;
      return buildImageVerifier({ trusted, files, hardwareId: config.hardwareId, floors, revocations: (n) => revocations.status(n), freshness, ...(promotedList ? { promotedList } : {}) });
    },
    async report(event) {
      if (!reporter) {
        if (degraded) await spoolEvent(config.runDir, event, clock()).catch((err: unknown) => log.warn('could not spool telemetry event', { type: event.type, error: asEdgesealError(err).message }));
        return;
      }
      await reporter.record(event).then(
        () => undefined,
        (err: unknown) => log.warn('could not record telemetry event', { type: event.type, error: asEdgesealError(err).message }),
      );
    },
    async reboot(reason) {
      log.warn(`rebooting: ${reason}`, { command: config.update.rebootCommand });
      await runReboot(config.update.rebootCommand).catch((err: unknown) => {
        throw new EdgesealError('INSTALL_FAILED', `reboot: expected ${JSON.stringify(config.update.rebootCommand)} to succeed, it failed: ${(err as Error).message}`, { cause: err });
      });
    },
    async close() {
      await telemetry?.stop();
      await local?.outbox.flush();
      await lock?.release();
      await tpm.close();
    },
  };
}
