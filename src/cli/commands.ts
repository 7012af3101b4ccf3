import type { Command } from './command.js';
import { repoAddTarget } from './repo-add-target.js';
import { repoDelegate } from './repo-delegate.js';
import { repoInit } from './repo-init.js';
import { repoPublish } from './repo-publish.js';
import { repoRemoveTarget } from './repo-remove-target.js';
import { repoRotateKey } from './repo-rotate-key.js';
import { repoSign } from './repo-sign.js';
import { repoStatusCommand } from './repo-status.js';
import { repoSigner } from './repo-signer.js';
import { repoRefresh } from './repo-refresh.js';
import { repoCeremony } from './repo-ceremony.js';
import { tufClientCommand } from './tuf-client.js';
import { verifyCommand } from './verify.js';
import { provisionCommand } from './provision.js';
import { tpmStatusCommand } from './tpm-status.js';
import { repoRevoke } from './repo-revoke.js';
import { repoRevocations } from './revocations-list.js';
import { revocationsStatus } from './revocations-status.js';
import { revocationsRefresh } from './revocations-refresh.js';
import { agentCommand } from './agent.js';
import { bootCheckCommand } from './boot-check.js';
import { updateCommand } from './update.js';
import { statusCommand } from './status.js';
import { configCheckCommand } from './config-check.js';
import { telemetryVerifyCommand } from './telemetry-verify.js';
import { telemetryTailCommand } from './telemetry-tail.js';
import { demoCommand } from './demo.js';

// Every sub-command, in the order `edgeseal --help` lists them. Add one line per command module.
export const COMMANDS: readonly Command[] = [
  verifyCommand,
  tufClientCommand,
  provisionCommand,
  tpmStatusCommand,
  repoInit,
  repoAddTarget,
  repoRemoveTarget,
  repoDelegate,
  repoSign,
  repoPublish,
  repoRotateKey,
  repoStatusCommand,
  repoSigner,
  repoRefresh,
  repoCeremony,
  repoRevoke,
  repoRevocations,
  revocationsStatus,
  revocationsRefresh,
  agentCommand,
  bootCheckCommand,
  updateCommand,
  statusCommand,
  configCheckCommand,
  telemetryTailCommand,
  telemetryVerifyCommand,
  demoCommand,
];
