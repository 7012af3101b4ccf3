import { EdgesealError, isEdgesealError, type ErrorCode } from '../core/errors.js';
import type { BootCheckResult, InstallerDeps, InstallStep, VerifiedImage } from './install-contract.js';
import { finishAbandon, finishCommit, finishRollback, removeStaging, type FinishHost } from './install-finish.js';
import { floorsPending, readJournal, writeJournal, type InstallJournal, type InstallRecord, type InstallState, type InstallTarget } from './install-journal.js';
import { otherSlot, type SlotId } from './slot.js';

// The crash-safe install state machine:
//   idle → downloading → staged → trying → [health →] committed | rolled-back
//   (downloading: the target streams straight into the inactive slot, which is unbootable meanwhile;
//   the record's offset advances after each fdatasync; staged: digest, length and a re-read matched)
//   (health: the trial verified and its health checks run (P8); a restart inside it runs them again, at
//   most tries + 1 windows — one per trial boot, one for an agent restart — and only a passing run commits)
//   (any step before the trial boot → abandoned when the image proves bad)
// Each state is written (atomically) only after its side effect is durable, or — for the decisions
// committed / rolled-back / abandoned — before an idempotent clean-up that resume() repeats after a
// crash. The bootloader's fallback slot is only ever the slot the install started from or, after a
// passing boot check, the staged and re-verified new slot; TPM floors go up only after that commit.

// the agent and the tests import the Installer's vocabulary from here
export type { BootCheckResult, HealthResult, InstallerDeps, InstallStep, NextStep, VerifiedImage } from './install-contract.js';

// Errors that prove the image or the slot wrong: retrying cannot help, so the install is abandoned.
// Anything else (network, storage) keeps the journal where it is for resume().
const DEFINITIVE: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['DIGEST_MISMATCH', 'LENGTH_MISMATCH', 'OVERSIZED', 'INSUFFICIENT_SPACE', 'UNSAFE_PATH', 'MALFORMED_METADATA']);
const IN_FLIGHT: ReadonlySet<InstallState> = new Set<InstallState>(['downloading', 'downloaded', 'verified', 'staging', 'staged', 'trying', 'health']);

export class Installer {
  private journal: InstallJournal | undefined;
  private readonly finish: FinishHost; // the decided states' clean-ups (install-finish.ts) on this journal

  constructor(private readonly deps: InstallerDeps) {
    this.finish = { deps, journal: () => this.journal as InstallJournal, record: (state) => this.record(state), transition: (state, install) => this.transition(state, install) };
  }

  async current(): Promise<InstallJournal> {
    this.journal = await readJournal(this.deps.journalPath);
    return this.journal;
  }

  // Starts installing `target` into the inactive slot; runs until the trial boot is armed.
  async install(target: InstallTarget): Promise<InstallStep> {
    const j = await this.current();
    if (IN_FLIGHT.has(j.state) || floorsPending(j)) {
      throw new EdgesealError('INSTALL_FAILED', `expected no install in progress, found ${j.install?.target.name ?? '?'} in state ${j.state} (resume it first)`);
    }
    const s = await this.deps.selector.state();
    if (s.active !== s.good || (s.trySlot !== null && s.tryCount > 0)) {
      throw new EdgesealError('INSTALL_FAILED', `expected to run the committed slot with no trial armed, found ${JSON.stringify(s)}`);
    }
    if (s.trySlot !== null) await this.deps.selector.clearTry(); // a spent trial left by a bootloader
    await this.transition('downloading', { target, fromSlot: s.active, toSlot: otherSlot(s.active), floorsRaised: false });
    return this.advance();
  }

  // After a start or a crash: continues an install in flight, or finishes a decided one's clean-up.
  // `verified`: the boot check of the running slot, without which a commit's floors wait for one.
  async resume(verified?: VerifiedImage): Promise<InstallStep> {
    const j = await this.current();
    if (j.state === 'idle') return { journal: j, next: 'none' };
    if (j.state === 'committed') return finishCommit(this.finish, verified);
    if (j.state === 'rolled-back') return finishRollback(this.finish);
    if (j.state === 'abandoned') return finishAbandon(this.finish);
    return this.advance();
  }

  // On the trial boot: the boot check of the new slot passed → commit (mark good, then raise floors);
  // it failed → roll back to the slot the install started from. A failed check is a verdict, not a
  // flake, so trials left in tryCount (there for hangs before the agent runs) are not spent on it.
  // `markedGood`: the integrator's verdict (edgeseal mark-good) stands in for the health window.
  async confirmBoot(result: BootCheckResult, markedGood = false): Promise<InstallStep> {
    const j = await this.current();
    const rec = await this.record(j.state === 'health' ? 'health' : 'trying');
    const active = await this.deps.selector.active();
    if (active !== rec.toSlot) {
      throw new EdgesealError('INSTALL_FAILED', `expected to run trial slot ${rec.toSlot}, found slot ${active} (call resume())`);
    }
    if (!result.ok) return this.rollBack(result.code, `boot check of slot ${rec.toSlot} failed: ${result.message}`);
    if (!markedGood && (this.deps.health || this.deps.awaitMark)) {
      // journalled first: a kill inside the window leaves 'health', which never commits without a passing run
      const runs = rec.healthRuns ?? 0;
      if (runs > (this.deps.tries ?? 1)) return this.rollBack('HEALTH_CHECK_FAILED', `health window of slot ${rec.toSlot} interrupted ${runs} time(s) without a verdict`);
      await this.transition('health', { ...rec, healthRuns: runs + 1 });
      const h = this.deps.health ? await this.deps.health() : ({ ok: true } as const);
      if (!h.ok) return this.rollBack('HEALTH_CHECK_FAILED', `health check ${h.check} of slot ${rec.toSlot} failed: ${h.message}`);
      // external mode: the checks (if any) passed; the integrator's mark decides
      if (this.deps.awaitMark) return { journal: this.journal as InstallJournal, next: 'none' };
    }
    await this.transition('committed', { ...(this.journal?.install as InstallRecord), floorsRaised: false });
    return finishCommit(this.finish, result.verified);
  }

  // The trial slot's agent cannot start (TPM unreachable, storage: exit 3): the new kernel may have broken
  // the driver, so the trial rolls back. Only while running the trial slot undecided; else undefined.
  async abortTrial(code: ErrorCode, message: string): Promise<InstallStep | undefined> {
    const j = await this.current();
    if ((j.state !== 'trying' && j.state !== 'health') || !j.install) return undefined;
    if ((await this.deps.selector.active()) !== j.install.toSlot) return undefined;
    return this.rollBack(code, message);
  }

  // edgeseal mark-good, with the boot check of the running slot: commits its undecided trial (the agent's
  // commit path), or finishes a commit whose floors a crash left pending; undefined when neither applies.
  async markGood(result: BootCheckResult): Promise<InstallStep | undefined> {
    const j = await this.current();
    if (!j.install || (await this.deps.selector.active()) !== j.install.toSlot) return undefined;
    if (j.state === 'trying' || j.state === 'health') return this.confirmBoot(result, true);
    return floorsPending(j) ? finishCommit(this.finish, result.ok ? result.verified : undefined) : undefined;
  }

  // edgeseal mark-bad: the trial slot being run is rolled back to the slot the install started from;
  // run again on that slot (or after a crash), the decided rollback only finishes its clean-up.
  async markBad(reason: string): Promise<InstallStep> {
    const j = await this.current();
    if (j.state === 'rolled-back' && j.install && (await this.deps.selector.active()) === j.install.toSlot) return finishRollback(this.finish);
    const step = await this.abortTrial('MARKED_BAD', reason);
    if (step) return step;
    throw new EdgesealError('MARK_REFUSED', `mark-bad: expected to run the trial slot of an undecided install, found install state ${j.state} while running slot ${await this.deps.selector.active()} (the known-good slot has nothing to roll back to)`);
  }

  // edgeseal mark-active and onFailure fallback: `slot` (verified by the caller) becomes the slot the bootloader boots.
  // The journal goes back to idle first, so that the clean-up of an earlier decision (resume) never
  // re-marks that install's slot over this choice; then the bootloader. Refused while an install is in flight.
  async select(slot: SlotId): Promise<InstallStep> {
    const j = await this.current();
    if (IN_FLIGHT.has(j.state) || floorsPending(j)) {
      throw new EdgesealError('MARK_REFUSED', `selecting slot ${slot}: expected no install in flight, found ${j.install?.target.name ?? '?'} ${j.install?.target.version ?? ''} in state ${j.state} (decide its trial with mark-good or mark-bad first)`);
    }
    if (j.state !== 'idle') await this.write({ seq: j.seq + 1, state: 'idle', install: null });
    const s = await this.deps.selector.state();
    if (s.good !== slot || s.trySlot !== null) await this.deps.selector.markGood(slot);
    return { journal: this.journal as InstallJournal, next: s.active === slot ? 'none' : 'reboot' };
  }

  // Gives up an install before its trial boot (operator cancel, shutdown policy).
  async abandon(code: ErrorCode, message: string): Promise<InstallStep> {
    const j = await this.current();
    if (!IN_FLIGHT.has(j.state) || !j.install) throw new EdgesealError('INSTALL_FAILED', `expected an install in progress, found state ${j.state}`);
    if ((j.state === 'trying' || j.state === 'health') && (await this.deps.selector.active()) === j.install.toSlot) {
      throw new EdgesealError('INSTALL_FAILED', `slot ${j.install.toSlot} is on its trial boot: confirm or roll it back instead`);
    }
    await this.transition('abandoned', { ...j.install, outcome: { code, message } });
    return finishAbandon(this.finish);
  }

  private async advance(): Promise<InstallStep> {
    for (;;) {
      const j = this.journal as InstallJournal;
      const rec = j.install as InstallRecord;
      try {
        switch (j.state) {
          case 'downloading':
            if (!(await this.unbootable(rec))) return this.abandonWith(rec, 'INSTALL_FAILED', `slot ${rec.toSlot} is running or is the fallback: it is never written`);
            await removeStaging(this.deps.stagingDir);
            // loaded here, not with the installer: the boot sequence confirms trials without downloading anything
            await (await import('./stream-install.js')).streamIntoSlot({
              ...this.deps.download,
              source: this.deps.source,
              target: rec.target,
              slots: this.deps.slots,
              slot: rec.toSlot,
              offset: rec.offset ?? 0,
              restarted: rec.restarted ?? false,
              checkpoint: (offset, restarted) => this.transition('downloading', { ...rec, offset, restarted }),
            });
            await this.transition('staged', withoutStream(rec));
            break;
          case 'downloaded':
          case 'verified':
          case 'staging':
            // an older agent's journal: its download sits in the staging dir, not in the slot; stream again
            await removeStaging(this.deps.stagingDir);
            await this.transition('downloading', { ...withoutStream(rec), offset: 0 });
            break;
          case 'staged':
            await this.transition('trying', rec);
            break;
          case 'trying':
          case 'health':
            return await this.settleTrial(rec);
          default:
            throw new EdgesealError('INTERNAL', `install: no step from state ${j.state}`);
        }
      } catch (err) {
        if (!isEdgesealError(err) || !DEFINITIVE.has(err.code)) throw err;
        return this.abandonWith(this.journal?.install ?? rec, err.code, err.message);
      }
    }
  }

  // Before the first byte (and on every resume): the slot being written must be neither running nor
  // the fallback, and any trial of it is disarmed, so no bootloader starts it while it holds
  // unverified bytes. False when the slot is not safe to write at all.
  private async unbootable(rec: InstallRecord): Promise<boolean> {
    const s = await this.deps.selector.state();
    if (s.active === rec.toSlot || s.good === rec.toSlot) return false;
    if (s.trySlot === rec.toSlot) await this.deps.selector.clearTry();
    return true;
  }

  private async abandonWith(rec: InstallRecord, code: ErrorCode, message: string): Promise<InstallStep> {
    await this.transition('abandoned', { ...withoutStream(rec), outcome: { code, message } });
    return finishAbandon(this.finish);
  }

  // Reads the bootloader's state to tell "trial not armed yet", "armed, awaiting reboot", "running the
  // trial" and "the trial was spent and the bootloader fell back" apart (see BootState's rule).
  private async settleTrial(rec: InstallRecord): Promise<InstallStep> {
    const s = await this.deps.selector.state();
    const journal = this.journal as InstallJournal;
    if (s.active === rec.toSlot) return { journal, next: 'boot-check' };
    // the trial ran and a reboot ended its health window: never armed again
    if (journal.state === 'health') return this.rollBack('HEALTH_CHECK_FAILED', `slot ${rec.toSlot} rebooted inside its health window; the bootloader runs slot ${s.active}`);
    if (s.trySlot === rec.toSlot && s.tryCount > 0) return { journal, next: 'reboot' };
    if (s.trySlot === rec.toSlot) return this.rollBack('INSTALL_FAILED', `slot ${rec.toSlot} did not confirm its trial boot; the bootloader fell back to slot ${s.active}`);
    await this.deps.selector.setTryOnce(rec.toSlot, this.deps.tries ?? 1);
    return { journal, next: 'reboot' };
  }

  private async rollBack(code: ErrorCode, message: string): Promise<InstallStep> {
    await this.transition('rolled-back', { ...(this.journal?.install as InstallRecord), outcome: { code, message } });
    return finishRollback(this.finish);
  }

  private async record(state: InstallState): Promise<InstallRecord> {
    const j = this.journal ?? (await this.current());
    if (j.state !== state || !j.install) throw new EdgesealError('INSTALL_FAILED', `expected install state ${state}, found ${j.state}`);
    return j.install;
  }

  private transition(state: InstallState, install: InstallRecord): Promise<void> {
    return this.write({ seq: (this.journal?.seq ?? 0) + 1, state, install });
  }

  private async write(next: InstallJournal): Promise<void> {
    await writeJournal(this.deps.journalPath, next);
    this.journal = next;
    this.deps.onTransition?.(next);
  }
}

// The record without the stream's bookkeeping, once the slot is written or given up.
function withoutStream(rec: InstallRecord): InstallRecord {
  const rest: { -readonly [K in keyof InstallRecord]: InstallRecord[K] } = { ...rec };
  delete rest.offset;
  delete rest.restarted;
  return rest;
}
