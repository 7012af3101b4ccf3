import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { InstallerDeps, InstallStep, VerifiedImage } from './install-contract.js';
import { floorsPending, type InstallJournal, type InstallRecord, type InstallState, type InstallTarget } from './install-journal.js';

// The clean-ups of a decided install (committed, rolled-back, abandoned): each is idempotent, so
// resume() repeats it after a crash (the state machine and its ordering rules: src/ota/install.ts).

// What the clean-ups need of the Installer: its deps, the journal it last read or wrote, and its steps.
export interface FinishHost {
  readonly deps: Pick<InstallerDeps, 'selector' | 'stagingDir' | 'raiseFloors'>;
  journal(): InstallJournal;
  record(state: InstallState): Promise<InstallRecord>;
  transition(state: InstallState, install: InstallRecord): Promise<void>;
}

// Commit: the new slot becomes the fallback first, and only then do the TPM floors go up (P3), so a
// crash in between leaves floors that the old slot still satisfies. The floors come from what the
// boot check of the committed slot verified, never from the journal; a journal that disagrees with
// it was altered, so nothing is raised and the refusal is recorded (and reported by the caller).
export async function finishCommit(host: FinishHost, verified: VerifiedImage | undefined): Promise<InstallStep> {
  const rec = await host.record('committed');
  const s = await host.deps.selector.state();
  if (s.good !== rec.toSlot || s.trySlot !== null) await host.deps.selector.markGood(rec.toSlot);
  if (floorsPending(host.journal()) && verified?.slot === rec.toSlot) {
    const disagreement = journalDisagreement(rec.target, verified);
    if (disagreement) await host.transition('committed', { ...rec, outcome: { code: 'FLOOR_VIOLATION', message: disagreement } });
    else {
      await host.deps.raiseFloors(verified);
      await host.transition('committed', { ...rec, floorsRaised: true });
    }
  }
  return { journal: host.journal(), next: s.active === rec.toSlot ? 'none' : 'reboot' };
}

export async function finishRollback(host: FinishHost): Promise<InstallStep> {
  const rec = await host.record('rolled-back');
  const s = await host.deps.selector.state();
  if (s.good !== rec.fromSlot || s.trySlot !== null) await host.deps.selector.markGood(rec.fromSlot);
  return { journal: host.journal(), next: s.active === rec.fromSlot ? 'none' : 'reboot' };
}

export async function finishAbandon(host: FinishHost): Promise<InstallStep> {
  const rec = await host.record('abandoned');
  const s = await host.deps.selector.state();
  if (s.trySlot === rec.toSlot) await host.deps.selector.clearTry();
  await removeStaging(host.deps.stagingDir);
  return { journal: host.journal(), next: 'none' };
}

// Why the journal's target is not the image the boot check verified, or undefined when it is.
function journalDisagreement(t: InstallTarget, v: VerifiedImage): string | undefined {
  if (t.name === v.name && t.sha256.toLowerCase() === v.sha256.toLowerCase() && t.securityVersion === v.securityVersion) return undefined;
  return `floors not raised: expected the install journal to record the verified ${v.name} (sha256 ${v.sha256}, securityVersion ${v.securityVersion}) in slot ${v.slot}, found ${t.name} (sha256 ${t.sha256}, securityVersion ${t.securityVersion})`;
}

// Downloads an older agent staged (<sha256>.<name>.part): never used again, so never left to fill the disk.
export async function removeStaging(dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  await Promise.all(names.filter((n) => n.endsWith('.part')).map((n) => rm(join(dir, n), { force: true })));
}
