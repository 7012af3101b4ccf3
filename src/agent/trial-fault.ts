import type { AgentConfig } from '../config/schema.js';
import type { EdgesealError, ErrorCode } from '../core/errors.js';
import type { Logger } from '../log/logger.js';
import { readJournal } from '../ota/install-journal.js';
import { Installer } from '../ota/install.js';
import { agentPaths } from './agent-state.js';
import { bootSelectorFrom } from './boot-selector-config.js';
import { slotBackend } from './device.js';

// An agent that cannot start on a trial boot (exit 3) rolls the trial back: the new kernel or rootfs may
// have broken the TPM driver or the storage, and retrying on the same slot cannot help (issue 11 A). On
// a committed slot nothing changes: the agent exits 3 and alarms, as before.

// The start failures that exit 3 and that a slot can cause.
const SLOT_FAULTS: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['TPM_UNREACHABLE', 'STORAGE_ERROR']);

// True when a trial was rolled back (and the reboot into the good slot asked for).
export async function rollBackTrialOnFault(config: AgentConfig, err: EdgesealError, logger: Logger, reboot: (argv: readonly string[]) => Promise<void>): Promise<boolean> {
  const { slots, bootSelector } = config.update;
  if (!SLOT_FAULTS.has(err.code) || !slots || !bootSelector) return false;
  const log = logger.child({ component: 'install' });
  const paths = agentPaths(config.stateDir);
  try {
    const journal = await readJournal(paths.journal);
    if (journal.state !== 'trying' && journal.state !== 'health') return false;
    // raiseFloors is never reached: a rollback moves no floor (P3), and without a TPM none could move
    const installer = new Installer({ journalPath: paths.journal, stagingDir: paths.staging, source: { kind: 'dir', path: paths.staging }, slots: await slotBackend(slots), selector: bootSelectorFrom(bootSelector), raiseFloors: () => Promise.reject(err) });
    const step = await installer.abortTrial(err.code, `trial slot could not start the agent: ${err.message}`);
    if (!step?.journal.install) return false;
    const { toSlot, fromSlot } = step.journal.install;
    log.error(`trial of slot ${toSlot} rolled back to slot ${fromSlot}: [${err.code}] ${err.message}`, { code: err.code });
    if (step.next === 'reboot') await reboot(config.update.rebootCommand);
    return true;
  } catch (e) {
    // the journal or the boot selector cannot be written either: the bootloader's try counter decides
    log.error(`trial left to the bootloader's try counter: ${(e as Error).message}`);
    return false;
  }
}
