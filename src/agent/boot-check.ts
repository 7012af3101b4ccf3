import type { EdgesealError } from '../core/errors.js';
import { refusal } from '../tuf/offline/verify-image.js';
import { updateAgentStatus, type ImageStatus } from './agent-state.js';
import type { Device } from './device.js';
import { checkImage, type ImageOutcome } from './check-image.js';
import type { ImageVerifier } from './image-verifier.js';
import { fixedRecordKey, keepRecord, readInstallRecord } from './install-records.js';
import { announceFreshness } from './revocation-freshness.js';
import { supplyDigests } from './boot-digests.js';
import type { BootProgressOutlets } from './boot-progress.js';
import { recordOtherSlot } from './other-slot-record.js';
import { fixedImage, slotImage, type InstalledImage } from './installed-images.js';

// The boot check (ARCHITECTURE "boot" flow): every installed image streamed through sha256 and judged
// by the one image verifier (TUF, revocation, TPM floor); each verified digest measured into the PCR.

export interface BootCheckResult {
  readonly ok: boolean;
  readonly rootVersion?: number;
  readonly targetsVersion?: number; // top-level targets version of the metadata the check trusted
  // the held revocation list is not what that metadata names (P5: boot goes on, nothing commits or rises)
  readonly revocationProblem?: EdgesealError;
  readonly outcomes: readonly ImageOutcome[];
}

// The images to check right now: fixed ones and the A/B image in the booted slot.
export async function installedImages(dev: Device): Promise<InstalledImage[]> {
  const fixed: InstalledImage[] = [];
  for (const i of dev.config.images) if (i.path !== undefined) fixed.push(fixedImage({ ...i, path: i.path }, await readInstallRecord(dev.paths, fixedRecordKey(i.path))));
  if (!dev.ab) return fixed;
  return [await slotImage(dev, dev.ab, await dev.ab.selector.active()), ...fixed];
}

export function imageStatus(o: ImageOutcome): ImageStatus {
  const base = { target: o.image.target, kind: o.image.kind, location: o.image.location, ...(o.image.slot ? { slot: o.image.slot } : {}), ...(o.digest ? { sha256: o.digest.sha256 } : {}) };
  if (!o.verdict.ok) return { ...base, verdict: 'refused', code: o.verdict.code, message: o.verdict.message };
  return { ...base, verdict: 'verified', version: o.verdict.target.custom.version, keyids: o.verdict.keyids };
}

// Logs, measures and reports one outcome: every decision with image, digest, key ids and code.
// The PCR extend is awaited (the event log replays in image order); the telemetry append is returned
// unawaited so the next digest runs while it is signed and fsynced. Its sequence number is taken
// in call order (the outbox serialises appends), so the order stays deterministic.
async function record(dev: Device, o: ImageOutcome, now: Date): Promise<{ reported: Promise<void> }> {
  const log = dev.logger.child({ component: 'boot-check' });
  const { verdict, digest, image } = o;
  const fields = { image: image.target, location: image.location, sha256: digest?.sha256, latencyMs: Math.round(o.latencyMs) };
  if (verdict.ok) {
    const version = verdict.target.custom.version;
    await dev.trust.measure({ name: image.target, version, sha256: digest!.sha256 }, now);
    log.info(`verified ${image.target} ${version}${o.vouchedBy === 'install-record' ? ' (by its install record)' : ''}`, { ...fields, keyids: verdict.keyids, rootVersion: verdict.rootVersion });
  } else {
    log.error(`refused ${image.target} [${verdict.code}] ${verdict.message}`, { ...fields, code: verdict.code });
  }
  const reported = dev.report({
    type: 'boot-verification',
    verdict: verdict.ok ? 'ok' : 'refused',
    ...(verdict.ok ? { keyids: [...verdict.keyids], rootVersion: verdict.rootVersion } : { code: verdict.code, detail: verdict.message.slice(0, 512) }),
    image: { name: image.target, ...(verdict.ok ? { version: verdict.target.custom.version } : {}), ...(digest && /^[0-9a-f]{64}$/.test(digest.sha256) ? { sha256: digest.sha256 } : {}) },
    latencyMs: Math.round(o.latencyMs), // canonical JSON signs integers only
  });
  return { reported };
}

// Runs the check over `images` (default: what is installed now). Metadata that cannot be trusted
// refuses every image with its code: nothing is accepted without a completed verification (P6).
// reuseBootRecord: digests this boot's check already recorded stand in for hashing again (boot-digests.ts).
// progress: where the hashing's progress goes besides the log (boot-progress.ts).
export async function runBootCheck(dev: Device, now: Date, images?: readonly InstalledImage[], opts: { readonly reuseBootRecord?: boolean; readonly progress?: BootProgressOutlets } = {}): Promise<BootCheckResult> {
  const list = images ?? (await installedImages(dev));
  let verifier: ImageVerifier;
  try {
    verifier = await dev.createImageVerifier(now, dev.config.expiryAtBoot);
  } catch (err) {
    await announceFreshness(dev, 'boot', now);
    const verdict = refusal(err);
    const outcomes = list.map((image) => ({ image, verdict, latencyMs: 0 }));
    const reports: Promise<void>[] = [];
    for (const o of outcomes) reports.push((await record(dev, o, now)).reported);
    await Promise.all(reports);
    return { ok: false, outcomes };
  }
  // an expired or unauthenticated revocation list never stops booting by default, but the alarm is logged and reported here
  const revocationProblem = verifier.revocationProblem(now);
  await announceFreshness(dev, 'boot', now, revocationProblem);
  const outcomes: ImageOutcome[] = [];
  const reports: Promise<void>[] = [];
  const digests = await supplyDigests(dev, verifier, list, now, opts.reuseBootRecord === true, opts.progress);
  try {
    for (const image of digests.images) {
      const o = await checkImage(verifier, image, now);
      reports.push((await record(dev, o, now)).reported);
      outcomes.push(o);
    }
  } finally {
    await digests.finish(outcomes, now);
  }
  // every event is durable before the check returns (and so before READY=1)
  await Promise.all(reports);
  // images cleared by today's metadata get their record from it, so a later republish cannot strand them
  if (dev.storage.ok) {
    for (const o of outcomes) if (o.verdict.ok && o.vouchedBy === 'metadata') await keepRecord(dev, verifier, o.image.recordKey, o.verdict.target.name, now);
    if (!images) await recordOtherSlot(dev, verifier, now);
  }
  return { ok: outcomes.every((o) => o.verdict.ok), ...(revocationProblem ? { revocationProblem } : {}), rootVersion: verifier.rootVersion, targetsVersion: verifier.trusted.roles.get('targets')!.md.signed.version, outcomes };
}

export async function saveBootStatus(dev: Device, result: BootCheckResult, action: string, now: Date): Promise<void> {
  if (!dev.storage.ok) return; // the verdicts are in the spool; status.json waits for a writable state dir
  const floors = await dev.trust.readFloors();
  await updateAgentStatus(dev.paths, {
    floors: { at: now.toISOString(), ...floors },
    boot: {
      at: now.toISOString(),
      ok: result.ok,
      action,
      ...(result.rootVersion ? { rootVersion: result.rootVersion } : {}),
      images: result.outcomes.map(imageStatus),
      ...(result.revocationProblem ? { revocation: { code: result.revocationProblem.code, message: result.revocationProblem.message } } : {}),
    },
  });
}
