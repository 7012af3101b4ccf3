import { EdgesealError, type ErrorCode } from '../core/errors.js';
import { floorsPending, readJournal, type InstallState } from '../ota/install-journal.js';
import type { InstallStep, NextStep } from '../ota/install.js';
import { isSlotId, otherSlot, type SlotId } from '../ota/slot.js';
import { trialVerdict } from './boot-sequence.js';
import { checkImage, type ImageOutcome } from './check-image.js';
import type { AbImage, Device } from './device.js';
import { createInstaller } from './installer.js';
import { slotImage } from './installed-images.js';

// edgeseal mark-good | mark-bad | mark-active (the conventions of `rauc status mark-*`), for integrators
// who decide a trial's health themselves (update.health.mode "external", docs/health.md). Each is the
// install state machine's own step (src/ota/install.ts), so it is journalled and idempotent like the
// agent's: mark-good is the agent's commit (the only path that raises the securityVersion floor, P3),
// mark-bad its rollback, mark-active a verified slot chosen with no install in flight.

export type MarkSlot = SlotId | 'booted' | 'other';

export type MarkRequest = { readonly op: 'mark-good' } | { readonly op: 'mark-bad'; readonly reason?: string } | { readonly op: 'mark-active'; readonly slot: MarkSlot };

export interface MarkOutcome {
  readonly changed: boolean; // false: the device already was as asked (an idempotent re-run)
  readonly slot: SlotId; // the slot the mark was about
  readonly state: InstallState; // the install journal afterwards
  readonly next: NextStep; // 'reboot': the bootloader now picks a slot other than the running one
  readonly message: string;
  readonly code?: ErrorCode; // set when the mark was refused by a verification (exit 1)
}

function abOf(dev: Device, op: string): AbImage {
  if (!dev.ab) throw new EdgesealError('CONFIG_INVALID', `${op}: expected an A/B image (update.slots and update.bootSelector), found none`);
  // a mark must be durable (journal, then bootloader): with the state dir unwritable nothing is decided
  if (!dev.storage.ok) throw new EdgesealError('STORAGE_ERROR', `${op}: expected a writable state dir, found: ${dev.storage.message}`);
  return dev.ab;
}

// The slot's image judged as the boot check judges it (install record, signed metadata, revocation, floors).
async function verifySlot(dev: Device, ab: AbImage, slot: SlotId, now: Date): Promise<{ outcome: ImageOutcome; unauthenticated: EdgesealError | undefined }> {
  const verifier = await dev.createImageVerifier(now, dev.config.expiryAtBoot);
  return { outcome: await checkImage(verifier, await slotImage(dev, ab, slot), now), unauthenticated: verifier.revocationProblem(now) };
}

function outcomeOf(step: InstallStep, slot: SlotId, changed: boolean, message: string): MarkOutcome {
  const refused = step.journal.state === 'rolled-back' ? step.journal.install?.outcome : undefined;
  return { changed, slot, state: step.journal.state, next: step.next, message, ...(refused ? { code: refused.code } : {}) };
}

async function markGood(dev: Device, now: Date): Promise<MarkOutcome> {
  const ab = abOf(dev, 'mark-good');
  const j = await readJournal(dev.paths.journal);
  const s = await ab.selector.state();
  const trial = (j.state === 'trying' || j.state === 'health') && j.install?.toSlot === s.active;
  const unsettled = floorsPending(j) && j.install?.toSlot === s.active;
  if (!trial && !unsettled) {
    if (s.good === s.active) return { changed: false, slot: s.active, state: j.state, next: 'none', message: `slot ${s.active} already is the committed good slot` };
    throw new EdgesealError('MARK_REFUSED', `mark-good: expected to run a trial slot or the good slot, found slot ${s.active} running, slot ${s.good} good and install state ${j.state} (choose a slot with mark-active)`);
  }
  // the same verification and commit as the agent's start: the floor rises only to what this check verified
  const { outcome, unauthenticated } = await verifySlot(dev, ab, s.active, now);
  const verdict = trialVerdict(outcome, unauthenticated);
  const { installer, flush } = createInstaller(dev);
  const step = await installer.markGood(verdict);
  await flush();
  if (!step) throw new EdgesealError('MARK_REFUSED', `mark-good: the install journal changed while slot ${s.active} was verified; run it again`);
  if (step.journal.state === 'rolled-back') return outcomeOf(step, s.active, true, `slot ${s.active} did not verify and was rolled back to slot ${otherSlot(s.active)}: ${step.journal.install?.outcome?.message ?? ''}`);
  const t = step.journal.install?.target;
  // a commit whose floor a crash left pending, on a slot that no longer verifies: the floor keeps waiting
  if (!verdict.ok) return { ...outcomeOf(step, s.active, false, `slot ${s.active} is committed but does not verify now, so the floor stays: ${verdict.message}`), code: verdict.code };
  const floors = step.journal.install?.outcome ? ` (floors not raised: ${step.journal.install.outcome.message})` : '';
  return outcomeOf(step, s.active, true, `slot ${s.active} committed: ${t?.name ?? '?'} ${t?.version ?? ''}${floors}`);
}

async function markBad(dev: Device, reason: string | undefined): Promise<MarkOutcome> {
  const ab = abOf(dev, 'mark-bad');
  const before = await readJournal(dev.paths.journal);
  const active = await ab.selector.active();
  const { installer, flush } = createInstaller(dev);
  const step = await installer.markBad(`slot ${active} marked bad: ${reason ?? 'edgeseal mark-bad'}`);
  await flush();
  const changed = before.state !== 'rolled-back';
  const from = step.journal.install?.fromSlot ?? otherSlot(active);
  const message = changed ? `slot ${active} marked bad; slot ${from} is the good slot again` : `already rolled back to slot ${from}`;
  return { changed, slot: active, state: step.journal.state, next: step.next, message };
}

async function markActive(dev: Device, which: MarkSlot, now: Date): Promise<MarkOutcome> {
  const ab = abOf(dev, 'mark-active');
  const s = await ab.selector.state();
  const slot = which === 'booted' ? s.active : which === 'other' ? otherSlot(s.active) : which;
  const j = await readJournal(dev.paths.journal);
  // the slot the clean-up of the journal's last decision would mark good at the next start (resume)
  const decided = j.state === 'committed' ? j.install?.toSlot : j.state === 'rolled-back' ? j.install?.fromSlot : undefined;
  if (s.good === slot && s.trySlot === null && (decided ?? slot) === slot) return { changed: false, slot, state: j.state, next: s.active === slot ? 'none' : 'reboot', message: `slot ${slot} already is the slot the bootloader boots` };
  // never arm a slot that does not verify now: its next boot check would refuse it (P7)
  const { outcome } = await verifySlot(dev, ab, slot, now);
  if (!outcome.verdict.ok) return { changed: false, slot, state: j.state, next: 'none', code: outcome.verdict.code, message: `slot ${slot} does not verify: ${outcome.verdict.message}` };
  const { installer } = createInstaller(dev);
  const step = await installer.select(slot);
  const version = outcome.verdict.target.custom.version;
  await dev.report({ type: 'install', verdict: 'info', image: { name: outcome.verdict.target.name, version, sha256: outcome.digest!.sha256 }, detail: `slot ${slot} selected for the next boot (mark-active); floors unchanged` });
  return { changed: true, slot, state: step.journal.state, next: step.next, message: `slot ${slot} (${outcome.verdict.target.name} ${version}) is the slot the bootloader boots` };
}

export function applyMark(dev: Device, req: MarkRequest, now: Date): Promise<MarkOutcome> {
  switch (req.op) {
    case 'mark-good':
      return markGood(dev, now);
    case 'mark-bad':
      return markBad(dev, req.reason);
    case 'mark-active':
      return markActive(dev, req.slot, now);
  }
}

// A request as it arrives on the control socket (unauthenticated beyond the socket's file mode: root only).
export function parseMarkRequest(raw: unknown): MarkRequest {
  const r = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  if (r.op === 'mark-good') return { op: 'mark-good' };
  if (r.op === 'mark-bad' && (r.reason === undefined || (typeof r.reason === 'string' && r.reason.length <= 512))) return { op: 'mark-bad', ...(r.reason !== undefined ? { reason: r.reason } : {}) };
  if (r.op === 'mark-active' && (isSlotId(r.slot) || r.slot === 'booted' || r.slot === 'other')) return { op: 'mark-active', slot: r.slot };
  throw new EdgesealError('USAGE', `control request: expected {op: mark-good | mark-bad [reason ≤ 512] | mark-active slot A|B|booted|other}, found ${JSON.stringify(raw).slice(0, 200)}`);
}
