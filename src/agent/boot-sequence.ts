import type { EdgesealError, ErrorCode } from '../core/errors.js';
import { readJournal } from '../ota/install-journal.js';
import type { BootCheckResult as InstallCheck, VerifiedImage } from '../ota/install.js';
import { otherSlot } from '../ota/slot.js';
import { runBootCheck, saveBootStatus, type BootCheckResult } from './boot-check.js';
import { checkImage, type ImageOutcome } from './check-image.js';
import { checkBootClock } from './boot-clock.js';
import type { Device } from './device.js';
import { createInstaller } from './installer.js';
import { slotImage } from './installed-images.js';
import { raiseMetadataFloors } from './root-floor.js';

// What happens at start after the boot check: confirm or roll back an install on its trial boot,
// finish a decided install's clean-up, and apply onFailure (refuse | fallback | report-only).

export type BootAction = 'verified' | 'committed' | 'awaiting-mark' | 'rolled-back' | 'report-only' | 'refused' | 'fallback';

export interface BootOutcome {
  readonly action: BootAction;
  readonly proceed: boolean; // the agent may go on to READY=1
  readonly check: BootCheckResult;
  readonly code?: ErrorCode;
  readonly message?: string;
}

function firstRefusal(check: BootCheckResult): { code: ErrorCode; message: string } | undefined {
  for (const o of check.outcomes) if (!o.verdict.ok) return { code: o.verdict.code, message: `${o.image.target} at ${o.image.location}: ${o.verdict.message}` };
  return undefined;
}

// What the boot check verified in the A/B slot against signed metadata: the install's only source of
// floor values (never the journal on disk).
function verifiedSlot(o: ImageOutcome | undefined): VerifiedImage | undefined {
  if (!o?.image.slot || !o.verdict.ok || !o.digest) return undefined;
  return { slot: o.image.slot, name: o.verdict.target.name, sha256: o.digest.sha256, securityVersion: o.verdict.target.custom.securityVersion };
}

// The verdict on a trial slot that decides its commit: a passing verdict always comes with the digest it
// judged (checkImage); nothing commits while the held revocation list is unauthenticated: the committed
// slot keeps booting (P5). Shared by the agent's start and edgeseal mark-good.
export function trialVerdict(o: ImageOutcome, unauthenticated: EdgesealError | undefined): InstallCheck {
  if (o.verdict.ok && unauthenticated) return { ok: false, code: unauthenticated.code, message: unauthenticated.message };
  return o.verdict.ok ? { ok: true, verified: verifiedSlot(o)! } : { ok: false, code: o.verdict.code, message: o.verdict.message };
}

// Fallback only helps when the A/B image is what failed and the other slot verifies now.
async function fallback(dev: Device, check: BootCheckResult, now: Date): Promise<BootOutcome | undefined> {
  const ab = dev.ab;
  const fixedFailed = check.outcomes.some((o) => o.image.slot === undefined && !o.verdict.ok);
  if (!ab || fixedFailed) return undefined;
  const active = await ab.selector.active();
  const other = otherSlot(active);
  const verifier = await dev.createImageVerifier(now, dev.config.expiryAtBoot).catch(() => undefined);
  if (!verifier) return undefined;
  const o = await checkImage(verifier, await slotImage(dev, ab, other), now);
  if (!o.verdict.ok) {
    dev.logger.child({ component: 'boot' }).error(`fallback impossible: slot ${other} does not verify either [${o.verdict.code}] ${o.verdict.message}`);
    return undefined;
  }
  if (dev.storage.ok) {
    // as edgeseal mark-active: the journal goes idle first, so the clean-up of its last decision (e.g. a
    // rollback marking its origin good) cannot send the next boot back to the slot that just failed
    const chosen = await createInstaller(dev).installer.select(other).then(
      () => true,
      (err: unknown) => void dev.logger.child({ component: 'boot' }).error(`fallback impossible: ${(err as Error).message}`),
    );
    if (!chosen) return undefined;
  } else await ab.selector.markGood(other);
  await dev.report({ type: 'rollback', verdict: 'refused', code: firstRefusal(check)!.code, image: { name: o.verdict.target.name, sha256: o.digest!.sha256 }, detail: `fallback from slot ${active} to verified slot ${other}` });
  await dev.reboot(`slot ${active} failed its boot check; falling back to verified slot ${other}`);
  return { action: 'fallback', proceed: false, check, ...firstRefusal(check)! };
}

// status: systemd's STATUS= for the agent, while the boot check hashes images over 64 MiB in all.
export async function bootSequence(dev: Device, now: Date, opts: { readonly status?: (text: string) => void } = {}): Promise<BootOutcome> {
  const log = dev.logger.child({ component: 'boot' });
  const journal = dev.ab ? await readJournal(dev.paths.journal) : undefined;
  await checkBootClock(dev, now);
  // the boot-check unit hashed every image earlier in this boot: its recorded digests are reused
  const check = await runBootCheck(dev, now, undefined, { reuseBootRecord: true, progress: opts.status ? { status: opts.status } : {} });
  // the metadata the check trusted may be newer than the floors (a refresh interrupted before its raise);
  // with an unauthenticated revocation list no floor rises until an authenticated one is fetched (issue 10 D)
  if (check.rootVersion !== undefined && !check.revocationProblem) await raiseMetadataFloors(dev, { rootVersion: check.rootVersion, targetsVersion: check.targetsVersion }, 'metadata verified at boot');
  let outcome: BootOutcome | undefined;

  if (dev.ab && journal?.install && !dev.storage.ok) {
    // a commit must be durable (journal, then floors): with the state dir unwritable nothing is decided,
    // and a trial boot stays a trial that the bootloader's try counter ends
    const detail = `install of ${journal.install.target.name} ${journal.install.target.version} (${journal.state}) left undecided: ${dev.storage.message}; the bootloader's try counter decides`;
    log.warn(detail);
    await dev.report({ type: 'commit', verdict: 'error', code: 'STORAGE_ERROR', detail: detail.slice(0, 512) });
  } else if (dev.ab && journal?.install) {
    const { installer, flush } = createInstaller(dev);
    const active = await dev.ab.selector.active();
    if ((journal.state === 'trying' || journal.state === 'health') && active === journal.install.toSlot) {
      // the trial boot of a new slot: its boot check, then its health checks (P8), decide commit (then floors) or roll back
      const step = await installer.confirmBoot(trialVerdict(check.outcomes.find((x) => x.image.slot !== undefined)!, check.revocationProblem));
      await flush();
      if (step.journal.state === 'rolled-back') {
        const why = step.journal.install?.outcome;
        await dev.reboot(`trial of slot ${journal.install.toSlot} failed (${why?.code ?? 'INSTALL_FAILED'}); rolling back to slot ${journal.install.fromSlot}`);
        outcome = { action: 'rolled-back', proceed: false, check, code: why?.code ?? 'INSTALL_FAILED', message: why?.message ?? '' };
      } else if (step.journal.state === 'health') {
        // update.health.mode external: the integrator decides with edgeseal mark-good | mark-bad (docs/health.md)
        log.info(`trial of slot ${journal.install.toSlot} verified; awaiting edgeseal mark-good or mark-bad`);
        outcome = { action: 'awaiting-mark', proceed: true, check };
      } else if (check.ok) {
        log.info(`committed slot ${journal.install.toSlot} (${journal.install.target.name} ${journal.install.target.version})`);
        outcome = { action: 'committed', proceed: true, check };
      }
    } else if (['committed', 'rolled-back', 'abandoned', 'trying', 'health'].includes(journal.state)) {
      // idempotent clean-up of a decision a crash interrupted; a trial the bootloader already spent
      // without a confirmation is rolled back (a trial armed but not yet booted stays armed)
      const step = await installer.resume(verifiedSlot(check.outcomes.find((x) => x.image.slot !== undefined)));
      await flush();
      if ((journal.state === 'trying' || journal.state === 'health') && step.journal.state === 'rolled-back') log.warn(`trial of slot ${journal.install.toSlot} was never confirmed: rolled back to slot ${journal.install.fromSlot}`);
    }
  }

  if (!outcome) outcome = check.ok ? { action: 'verified', proceed: true, check } : await onFailure(dev, check, now);
  await saveBootStatus(dev, check, outcome.action, now);
  return outcome;
}

async function onFailure(dev: Device, check: BootCheckResult, now: Date): Promise<BootOutcome> {
  const refusal = firstRefusal(check)!;
  const log = dev.logger.child({ component: 'boot' });
  switch (dev.config.onFailure) {
    case 'report-only':
      log.warn(`boot check failed but onFailure is report-only: continuing [${refusal.code}] ${refusal.message}`);
      return { action: 'report-only', proceed: true, check, ...refusal };
    case 'fallback': {
      const done = await fallback(dev, check, now);
      if (done) return done;
      return { action: 'refused', proceed: false, check, ...refusal };
    }
    default:
      return { action: 'refused', proceed: false, check, ...refusal };
  }
}
