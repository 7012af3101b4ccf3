import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { AgentConfig, ImageConfig } from '../config/schema.js';
import { asEdgesealError, EdgesealError } from '../core/errors.js';
import type { Logger } from '../log/logger.js';
import type { BootSelector } from '../ota/boot-selector.js';
import { BlockSlotBackend } from '../ota/slot-block.js';
import { FileSlotBackend } from '../ota/slot-file.js';
import type { SlotBackend } from '../ota/slot.js';
import { RevocationCache } from '../revocation/cache.js';
import type { FreshnessPolicy } from '../revocation/policy.js';
import { createEventSigner } from '../telemetry/envelope.js';
import type { FleetCommand } from '../telemetry/command.js';
import type { EventInput } from '../telemetry/event.js';
import { DiskOutboxStore } from '../telemetry/outbox/disk-store.js';
import { acquireOutboxLock } from '../telemetry/outbox/lock.js';
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

export interface Device {
  readonly config: AgentConfig;
  readonly logger: Logger;
  readonly clock: () => Date;
  readonly tpm: TpmClient;
  readonly trust: Trust;
  readonly paths: AgentPaths;
  readonly revocations: RevocationCache;
  readonly freshness: FreshnessPolicy;
  readonly ab: AbImage | undefined;
  readonly telemetry: TelemetryService | undefined;
  // Loads the trusted metadata cache from the TPM-pinned root (floors as in the TPM now) and returns
  // the synchronous verifier built on it.
  createImageVerifier(now: Date, expiry: ExpiryPolicy): Promise<ImageVerifier>;
  // Records a signed telemetry event in the durable outbox; never throws (a failure is logged).
  report(event: EventInput): Promise<void>;
  reboot(reason: string): Promise<void>;
  close(): Promise<void>;
}

function tpmConfig(config: AgentConfig): { swtpm: string } | { device: string } {
  return config.tpm.swtpm ? { swtpm: config.tpm.swtpm } : { device: config.tpm.device ?? DEFAULT_TPM_DEVICE };
}

// File slots for regular files (app bundles, tests), partition slots for block devices.
async function slotBackend(slots: { a: string; b: string }): Promise<SlotBackend> {
  const paths = { A: slots.a, B: slots.b };
  const st = await stat(slots.a).catch(() => undefined);
  return st?.isBlockDevice() ? new BlockSlotBackend(paths) : new FileSlotBackend(paths);
}

// Events into the durable outbox only: one-shot commands leave publishing to the daemon.
async function openReporter(config: AgentConfig, trust: Trust, clock: () => Date): Promise<{ reporter: TelemetryReporter; outbox: Outbox }> {
  const outbox = await Outbox.open(new DiskOutboxStore(join(config.stateDir, 'outbox')), { ...DEFAULT_LIMITS, maxBytes: config.telemetry.outboxMaxBytes });
  return { reporter: new TelemetryReporter({ outbox, signer: createEventSigner(trust.reportSeed), deviceId: config.deviceId, fleet: config.fleet, clock }), outbox };
}

function startPublishing(config: AgentConfig, trust: Trust, clock: () => Date, log: Logger, onCommand?: (cmd: FleetCommand) => void): Promise<TelemetryService> {
  const t = config.telemetry;
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
  const lock = opts.telemetry === 'off' ? undefined : await acquireOutboxLock(join(config.stateDir, 'outbox'), { waitMs });
  const tpm = await TpmClient.open(tpmConfig(config)).catch(async (err: unknown) => {
    await lock?.release();
    throw err;
  });
  let trust: Trust;
  try {
    const ownerAuth = config.tpm.ownerAuthFile ? await readOwnerAuthFile(config.tpm.ownerAuthFile, 'tpm.ownerAuthFile', 'CONFIG_INVALID') : undefined;
    trust = await establishTrust({ tpm, stateDir: config.stateDir, measurementPcr: config.tpm.measurePcr, ownerAuth });
    if (trust.identity.hardwareId !== config.hardwareId) {
      throw new EdgesealError('ANCHOR_MISMATCH', `hardware id: expected ${trust.identity.hardwareId} (pinned in the TPM), found ${config.hardwareId} in the config`);
    }
  } catch (err) {
    await tpm.close();
    await lock?.release();
    throw err;
  }
  const paths = agentPaths(config.stateDir);
  const { graceDays, onExpired, onNever } = config.revocation;
  const freshness: FreshnessPolicy = { graceDays, onExpired, onNever };
  const abConfig = config.images.find((i) => i.path === undefined);
  const { slots: slotPaths, bootSelector } = config.update;
  let revocations: RevocationCache, ab: AbImage | undefined, telemetry: TelemetryService | undefined, local: Awaited<ReturnType<typeof openReporter>> | undefined;
  try {
    revocations = await RevocationCache.open({ stateDir: config.stateDir, graceDays: config.revocation.graceDays, floorVersion: trust.floors.revocationVersion });
    ab = abConfig && slotPaths && bootSelector ? { image: abConfig, slots: await slotBackend(slotPaths), selector: bootSelectorFrom(bootSelector) } : undefined;
    telemetry = opts.telemetry === 'publish' ? await startPublishing(config, trust, clock, logger.child({ component: 'telemetry' }), opts.onCommand) : undefined;
    local = opts.telemetry === 'outbox' ? await openReporter(config, trust, clock) : undefined;
  } catch (err) {
    await tpm.close(); // the one-client swtpm (and the device) must be free for the next attempt
    await lock?.release();
    throw err;
  }
  const reporter = telemetry?.reporter ?? local?.reporter;
  const runReboot = opts.reboot ?? (async (argv: readonly string[]) => void (await exec(argv[0], argv.slice(1))));

  return {
    config,
    logger,
    clock,
    tpm,
    trust,
    paths,
    revocations,
    freshness,
    ab,
    telemetry,
    async createImageVerifier(now, expiry) {
      const floors = await trust.readFloors();
      const files = await readMetadataDir(paths.metadataDir, { initialRoot: trust.initialRoot });
      const trusted = loadTrustedMetadata(files, { now, expiry, floors: { rootVersion: floors.rootVersion, targetsVersion: floors.targetsVersion } });
      return buildImageVerifier({ trusted, hardwareId: config.hardwareId, floors, revocations: (n) => revocations.status(n), freshness });
    },
    async report(event) {
      if (!reporter) return;
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
