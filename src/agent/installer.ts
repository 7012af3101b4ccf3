import type { HttpTransport } from '../net/http-transport.js';
import type { DownloadSource } from '../ota/download-source.js';
import type { DownloadRequest } from '../ota/download.js';
import type { InstallJournal } from '../ota/install-journal.js';
import { Installer, type VerifiedImage } from '../ota/install.js';
import type { EventInput } from '../telemetry/event.js';
import { readSlotRecords, writeSlotRecords } from './agent-state.js';
import type { Device } from './device.js';
import { hasHealthChecks, runHealthChecks } from './health-checks.js';
import { promoteSlotRecord } from './install-records.js';
import { installProgress } from './install-progress.js';

// Wires the OTA install state machine (src/ota/install.ts) to this device: its slots, boot selector,
// journal, TPM floors, logs and telemetry.

// A repository location as an operator gives it: an http(s) URL (over the device's update transport) or a directory (USB stick).
export async function downloadSource(location: string, transport: () => Promise<HttpTransport>): Promise<DownloadSource> {
  return /^https?:\/\//.test(location) ? { kind: 'http', baseUrl: location, transport: await transport() } : { kind: 'dir', path: location };
}

// Which journal states become which telemetry event (the others are progress, logged only).
function transitionEvent(j: InstallJournal): EventInput | undefined {
  const t = j.install?.target;
  if (!t) return undefined;
  const image = { name: t.name, version: t.version, sha256: t.sha256 };
  const outcome = j.install?.outcome;
  switch (j.state) {
    case 'trying':
      return { type: 'install', verdict: 'ok', image, detail: `staged into slot ${j.install.toSlot}; trial boot armed` };
    case 'committed':
      if (outcome) return { type: 'commit', verdict: 'error', code: outcome.code, image, detail: outcome.message.slice(0, 512) };
      return j.install.floorsRaised ? { type: 'commit', verdict: 'ok', image, detail: `slot ${j.install.toSlot} committed; TPM floors raised` } : undefined;
    case 'rolled-back':
      return { type: 'rollback', verdict: 'refused', code: outcome?.code ?? 'INSTALL_FAILED', image, detail: (outcome?.message ?? '').slice(0, 512) };
    case 'abandoned':
      return { type: 'install', verdict: 'refused', code: outcome?.code ?? 'INSTALL_FAILED', image, detail: (outcome?.message ?? '').slice(0, 512) };
    default:
      return undefined;
  }
}

// The security-version floor (and the PCR policy revocation) goes up only after the commit (the state machine calls this then), to the
// signed version of the image the boot check verified in the committed slot. Idempotent, never lowers.
// The root-version floor is not raised here: bootSequence raised it to the chain that same boot check
// verified (root-floor.ts) before any commit could run.
async function raiseFloors(dev: Device, verified: VerifiedImage): Promise<void> {
  const floors = await dev.trust.readFloors();
  const after = verified.securityVersion > floors.securityVersion ? await dev.trust.raiseFloor('securityVersion', verified.securityVersion) : floors;
  const log = dev.logger.child({ component: 'install' });
  log.info(`TPM floors raised: securityVersion ${after.securityVersion}, rootVersion ${after.rootVersion}`, { image: verified.name });
  // the committed boot chain's signed PCR policy replaces the older ones: revoked now, never at arm,
  // so a rollback during the trial still unsealed with its own generation (docs/signed-pcr-policies.md)
  const generation = dev.trust.pcrPolicyGeneration;
  if (generation !== undefined && generation > 1) {
    await dev.trust.revokeOlderPcrPolicies();
    log.info(`signed PCR policy generations below ${generation} revoked on this TPM`, { image: verified.name });
  }
}

export interface DeviceInstaller {
  readonly installer: Installer;
  // waits for the side effects of transitions so far (slot records, telemetry events)
  readonly flush: () => Promise<void>;
}

// onProgress: a terminal bar (then progress is not logged too); status: systemd STATUS= lines
export function createInstaller(dev: Device, source?: DownloadSource, download: Pick<DownloadRequest, 'onProgress' | 'signal' | 'bounds'> & { status?: (text: string) => void } = {}): DeviceInstaller {
  const ab = dev.ab!;
  const log = dev.logger.child({ component: 'install' });
  const pending: Promise<void>[] = [];
  let lastState: string | undefined;
  let targetName = '';
  const { status, onProgress: bar, ...transfer } = download;
  const lines = installProgress({
    ...(bar ? {} : { log: (line: string, fields: Record<string, unknown>) => log.info(line, fields) }),
    ...(status ? { status } : {}),
    publish: (p) => dev.telemetry?.publisher?.setInstallProgress(p),
  });
  const installer = new Installer({
    journalPath: dev.paths.journal,
    stagingDir: dev.paths.staging,
    // without a configured source only the steps after the download can resume
    source: source ?? { kind: 'dir', path: dev.paths.staging },
    slots: ab.slots,
    selector: ab.selector,
    tries: dev.config.update.maxTries,
    ...(hasHealthChecks(dev.config.update.health) ? { health: () => runHealthChecks(dev.config.update.health) } : {}),
    awaitMark: dev.config.update.health.mode === 'external',
    download: {
      ...transfer,
      attempts: 3,
      retryDelayMs: 500,
      onProgress: (p) => {
        bar?.(p);
        lines(p, targetName);
      },
    },
    raiseFloors: async (verified) => {
      await Promise.all(pending.splice(0));
      await raiseFloors(dev, verified);
    },
    onTransition: (j) => {
      const rec = j.install;
      targetName = rec?.target.name ?? targetName;
      // the stream's checkpoints rewrite 'downloading': logged once (progress has its own lines)
      const repeat = j.state === lastState;
      lastState = j.state;
      if (!repeat) log.info(`install ${j.state}`, { image: rec?.target.name, version: rec?.target.version, from: rec?.fromSlot, to: rec?.toSlot, code: rec?.outcome?.code });
      if (j.state === 'staged' && rec) {
        // the slot's new content is durable: remember which target it holds (status, next boot check) and its install record
        pending.push(readSlotRecords(dev.paths).then((r) => writeSlotRecords(dev.paths, { ...r, [rec.toSlot]: rec.target })));
      }
      // 'trying' again, for a crash between 'staged' and the record's move (a no-op otherwise)
      if ((j.state === 'staged' || j.state === 'trying') && rec) pending.push(promoteSlotRecord(dev.paths, rec.toSlot));
      const event = transitionEvent(j);
      if (event) pending.push(dev.report(event));
    },
  });
  return { installer, flush: async () => void (await Promise.all(pending.splice(0))) };
}
