import { mkdir } from 'node:fs/promises';
import { decideUpdate, type GateCandidate, type GateDecision } from '../core/gate.js';
import { parseMaintenanceWindows } from '../core/maintenance-window.js';
import { effectiveTime } from '../core/time-floor.js';
import { asEdgesealError, EdgesealError, type ErrorCode } from '../core/errors.js';
import { runBudget } from '../io/retrieval-deadline.js';
import type { DownloadProgress } from '../ota/download.js';
import { floorsPending, readJournal, type InstallTarget } from '../ota/install-journal.js';
import { toInstallTarget } from '../ota/candidates.js';
import type { NextStep } from '../ota/install.js';
import { otherSlot } from '../ota/slot.js';
import { FileSlotBackend } from '../ota/slot-file.js';
import type { RejectedTarget } from '../tuf/offline/types.js';
import { scanTargets } from '../tuf/offline/verify-image.js';
import { readSlotRecords, updateAgentStatus } from './agent-state.js';
import type { Device } from './device.js';
import { createInstaller, downloadSource } from './installer.js';
import { refreshRevocations } from './revocation-refresh.js';
import { loadRolloutGate } from './rollout-policy.js';
import type { RolloutGate } from '../rollout/device.js';
import { refreshMetadata, retrievalBounds } from './metadata-refresh.js';
import { slotTarget } from './installed-images.js';
import type { ImageVerifier } from './image-verifier.js';
import { readInstallRecord, slotRecordKey, stageSlotRecord } from './install-records.js';
import { readTimeFloor } from './time-floor-store.js';
import { pcrPolicyView } from './pcr-policy-view.js';
import { updateTransport } from './update-transport.js';

// The update flow: TUF refresh (tuf-js) → revocation refresh → listTargets → gate → stream into the
// inactive slot while hashing → re-read and verify → arm a trial boot. The commit happens at the next start.

export type UpdateAction = 'installed' | 'none' | 'refused';

export interface UpdateOutcome {
  readonly action: UpdateAction;
  readonly code?: ErrorCode;
  readonly message: string;
  readonly target?: InstallTarget;
  readonly next?: NextStep;
  readonly reasons?: readonly string[];
}

export interface UpdateOptions {
  readonly from?: string; // URL or directory; default config update.source
  readonly ignoreMaintenanceWindow?: boolean;
  readonly onProgress?: (p: DownloadProgress) => void; // a terminal bar; without one, progress is logged
  readonly status?: (text: string) => void; // systemd STATUS= (the agent)
  readonly signal?: AbortSignal;
}

function location(dev: Device, from: string | undefined): string {
  const loc = from ?? dev.config.update.source;
  if (!loc) throw new EdgesealError('USAGE', 'update: expected --from DIR|URL or update.source in the config, found neither');
  return loc;
}

// Targets no device can use (e.g. published without image custom fields) are left out of the gate's
// choice, not allowed to stop every update; the operator still hears about each one.
async function reportRejectedTargets(dev: Device, rejected: readonly RejectedTarget[]): Promise<void> {
  const log = dev.logger.child({ component: 'update' });
  for (const r of rejected) {
    log.warn(`target ${r.name} skipped [${r.code}] ${r.message}`);
    await dev.report({ type: 'update-check', verdict: 'error', code: r.code, image: { name: r.name }, detail: r.message.slice(0, 512) });
  }
}

// Gate over the freshly verified metadata (expiry enforced: freeze protection for updates, P5).
// Expiry and revocation freshness are judged at max(clock, time floor), so rolling the clock back
// cannot resurrect expired metadata; the maintenance window follows the clock.
async function decide(dev: Device, opts: UpdateOptions, clockNow: Date, rollout?: RolloutGate): Promise<{ decision: GateDecision; verifier: ImageVerifier; now: Date }> {
  const ab = dev.ab!;
  const now = effectiveTime(clockNow, await readTimeFloor(dev));
  const verifier = await dev.createImageVerifier(now, 'enforce');
  await reportRejectedTargets(dev, scanTargets(verifier.trusted, now).rejected);
  const active = await ab.selector.active();
  const records = await readSlotRecords(dev.paths);
  const installedName = slotTarget(ab, active, records, await readJournal(dev.paths.journal));
  const record = records[active];
  // the version actually installed is the one its install record vouches for (the boot check wrote or
  // re-verified it), never whatever today's metadata lists under the same name (#10 finding 2)
  const recorded = await readInstallRecord(dev.paths, slotRecordKey(active)).then((b) => (b ? verifier.forRecord(b, now) : undefined));
  const listed = recorded?.ok ? recorded.judge.expected(recorded.target.name, ab.image.kind, now) : verifier.expected(installedName, ab.image.kind, now);
  // the slot's target name is disk state: one of another kind is never the baseline an update is judged against
  if (!listed.ok && listed.code === 'KIND_MISMATCH') return { decision: { action: 'refuse', code: listed.code, message: `installed slot ${active}: ${listed.message}` }, verifier, now };
  const installed = recorded?.ok && listed.ok ? listed.target.custom : record?.name === installedName ? record : listed.ok ? listed.target.custom : null;
  const floors = await dev.trust.readFloors();
  const decision = decideUpdate({
    candidates: verifier.candidates(now),
    device: { hardwareId: dev.config.hardwareId, kind: ab.image.kind },
    installed: installed ? { version: installed.version, securityVersion: installed.securityVersion } : null,
    floors: { securityVersion: floors.securityVersion },
    revocation: (c) => verifier.revocation(c, now, 'update'),
    ...(rollout ? { rollout: (c: GateCandidate) => rollout(c, now) } : {}),
    pcrPolicies: await pcrPolicyView(dev),
    // the image streams into the inactive slot: its size, not the state partition's free space, is the limit
    freeBytes: await ab.slots.capacity(otherSlot(active)),
    maintenanceWindows: parseMaintenanceWindows(dev.config.update.maintenanceWindows),
    // a file slot shares its filesystem with other data, which keeps reserveBytes; a partition is the image's alone
    policy: { allowDowngrade: dev.config.update.allowDowngrade, reserveBytes: ab.slots instanceof FileSlotBackend ? dev.config.update.reserveBytes : 0, ignoreMaintenanceWindow: opts.ignoreMaintenanceWindow ?? false },
    now: clockNow,
  });
  return { decision, verifier, now };
}

export async function runUpdate(dev: Device, opts: UpdateOptions = {}): Promise<UpdateOutcome> {
  const log = dev.logger.child({ component: 'update' });
  if (!dev.ab) throw new EdgesealError('CONFIG_INVALID', 'update: expected an A/B image (an images entry without a path, with update.slots and update.bootSelector), found none');
  // an install needs its journal, staging and cache: refuse before fetching anything
  if (!dev.storage.ok) throw new EdgesealError('STORAGE_ERROR', `update: expected a writable state dir, found: ${dev.storage.message}`);
  const from = location(dev, opts.from);
  // one budget for the whole run (refresh, revocation list, image download); the job's stop reaches it too
  const budget = runBudget(dev.config.update.runBudgetSeconds, opts.signal);
  const outcome = await attempt(dev, from, { ...opts, signal: budget.signal })
    .catch((err: unknown): UpdateOutcome => {
      const e = asEdgesealError(err);
      return { action: 'refused', code: e.code, message: e.message };
    })
    .finally(budget.dispose);
  const now = dev.clock();
  const fields = { code: outcome.code, image: outcome.target?.name, version: outcome.target?.version, sha256: outcome.target?.sha256, from };
  if (outcome.action === 'refused') log.error(`update refused [${outcome.code}] ${outcome.message}`, fields);
  else log.info(`update ${outcome.action}: ${outcome.message}`, fields);
  await dev.report({
    type: 'update-decision',
    verdict: outcome.action === 'refused' ? 'refused' : outcome.action === 'installed' ? 'ok' : 'info',
    ...(outcome.code && outcome.action === 'refused' ? { code: outcome.code } : {}),
    ...(outcome.target ? { image: { name: outcome.target.name, version: outcome.target.version, sha256: outcome.target.sha256 } } : {}),
    detail: outcome.message.slice(0, 512),
  });
  await updateAgentStatus(dev.paths, {
    update: { at: now.toISOString(), action: outcome.action, message: outcome.message, ...(outcome.code ? { code: outcome.code } : {}), ...(outcome.target ? { target: outcome.target.name, version: outcome.target.version } : {}) },
  });
  return outcome;
}

async function attempt(dev: Device, from: string, opts: UpdateOptions): Promise<UpdateOutcome> {
  const source = await downloadSource(from, () => updateTransport(dev.config, dev.bandwidth));
  const { installer, flush } = createInstaller(dev, source, {
    onProgress: opts.onProgress,
    signal: opts.signal,
    bounds: retrievalBounds(dev),
    ...(opts.status ? { status: opts.status } : {}),
  });
  const journal = await installer.current();
  if (!['idle', 'committed', 'rolled-back', 'abandoned'].includes(journal.state) || floorsPending(journal)) {
    // an interrupted install: continue it (resumable download) before looking for anything newer
    const step = await installer.resume();
    await flush();
    const t = step.journal.install?.target;
    if (step.journal.state === 'abandoned') return { action: 'refused', code: step.journal.install?.outcome?.code ?? 'INSTALL_FAILED', message: step.journal.install?.outcome?.message ?? 'install abandoned', ...(t ? { target: t } : {}) };
    // update.health.mode external: the running trial is the integrator's to decide, nothing new is fetched
    if (step.journal.state === 'health' && step.next === 'boot-check') return { action: 'none', message: `trial of ${t?.name ?? '?'} ${t?.version ?? ''} in slot ${step.journal.install?.toSlot ?? '?'} awaits edgeseal mark-good or mark-bad`, ...(t ? { target: t } : {}) };
    const where = step.journal.state === 'trying' ? `trial boot of slot ${step.journal.install?.toSlot ?? '?'} armed` : step.journal.state;
    return { action: 'installed', message: `install of ${t?.name ?? '?'} ${t?.version ?? ''} in progress, resumed: ${where}`, ...(t ? { target: t } : {}), next: step.next };
  }
  await mkdir(dev.paths.staging, { recursive: true });
  const set = await refreshMetadata(dev, from, { ...(opts.signal ? { signal: opts.signal } : {}) });
  // freshness blocks (expired beyond grace, onNever=require, a published list that fails to verify) stop here
  const revocations = await refreshRevocations(dev, () => Promise.resolve(set));
  if (!revocations.update.proceed) return { action: 'refused', code: revocations.update.error.code, message: revocations.update.error.message };
  const rollout = await loadRolloutGate(dev, set, effectiveTime(dev.clock(), await readTimeFloor(dev)));
  const { decision, verifier, now } = await decide(dev, opts, dev.clock(), rollout);
  if (decision.action === 'none') return { action: 'none', code: decision.code, message: decision.message };
  // a staged rollout holding the target back is a normal answer, not a failure
  if (decision.action === 'refuse' && decision.code === 'ROLLOUT_WITHHELD') return { action: 'none', code: decision.code, message: decision.message };
  if (decision.action === 'refuse') {
    const t = decision.target;
    return { action: 'refused', code: decision.code, message: decision.message, ...(t ? { target: toInstallTarget(t) } : {}) };
  }
  const target = toInstallTarget(decision.target);
  // the record of what the slot will hold, from the metadata the gate chose it from; the installer puts it in place once staged
  await stageSlotRecord(dev.paths, otherSlot(await dev.ab!.selector.active()), verifier.recordFor(target.name, now));
  const step = await installer.install(target);
  await flush();
  if (step.journal.state === 'abandoned') {
    return { action: 'refused', code: step.journal.install?.outcome?.code ?? 'INSTALL_FAILED', message: step.journal.install?.outcome?.message ?? 'install abandoned', target };
  }
  return { action: 'installed', message: `${target.name} ${target.version} staged into slot ${step.journal.install?.toSlot}; trial boot armed`, target, next: step.next, reasons: decision.reasons };
}
