import type { ErrorCode } from '../core/errors.js';
import type { BootSelector } from './boot-selector.js';
import type { DownloadSource } from './download-source.js';
import type { DownloadRequest } from './download.js';
import type { InstallJournal } from './install-journal.js';
import type { SlotBackend, SlotId } from './slot.js';
import type { StreamRequest } from './stream-install.js';

// The Installer's vocabulary (src/ota/install.ts runs the state machine): what it needs from the agent,
// what a boot check and the health checks tell it, and what it asks the agent to do next.

// What a passing boot check established for a slot: its digest and the signed target it matched. The
// only source of floor values — the journal is an unauthenticated file on the disk (P3).
export interface VerifiedImage {
  readonly slot: SlotId;
  readonly name: string;
  readonly sha256: string;
  readonly securityVersion: number; // from the signed target's custom fields
}

// What the health checks of a trial boot found: the first failing check names itself.
export type HealthResult = { readonly ok: true } | { readonly ok: false; readonly check: string; readonly message: string };

export type BootCheckResult = { readonly ok: true; readonly verified: VerifiedImage } | { readonly ok: false; readonly code: ErrorCode; readonly message: string };

// What the caller (the agent) must do next: nothing, reboot into the slot the bootloader will pick,
// or run the boot check of the trial slot it is running and pass the result to confirmBoot().
export type NextStep = 'none' | 'reboot' | 'boot-check';

export interface InstallStep {
  readonly journal: InstallJournal;
  readonly next: NextStep;
}

export interface InstallerDeps {
  readonly journalPath: string;
  readonly stagingDir: string; // where agents before streaming kept <sha256>.<name>.part files: cleaned up
  readonly source: DownloadSource;
  readonly slots: SlotBackend;
  readonly selector: BootSelector;
  // raises the TPM floors to the committed, verified image (trust layer's raiseFloor); must be idempotent
  readonly raiseFloors: (verified: VerifiedImage) => Promise<void>;
  readonly tries?: number; // trial boots armed for the new slot (default 1); a trial may start tries + 1 health windows
  readonly health?: () => Promise<HealthResult>; // P8: runs after the trial's boot check passed, before the commit
  // update.health.mode "external": a verified trial waits in 'health' for a mark (edgeseal mark-good | mark-bad)
  readonly awaitMark?: boolean;
  readonly download?: Pick<DownloadRequest, 'onProgress' | 'signal' | 'bounds' | 'attempts' | 'retryDelayMs'> & Pick<StreamRequest, 'checkpointBytes'>;
  readonly onTransition?: (journal: InstallJournal) => void; // for logs and telemetry
}
