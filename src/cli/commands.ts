import type { Command } from './command.js';
import { verifyCommand } from './verify.js';
import { provisionCommand } from './provision.js';
import { tpmStatusCommand } from './tpm-status.js';

// Every sub-command, in the order `edgeseal --help` lists them. Add one line per command module.
export const COMMANDS: readonly Command[] = [
  verifyCommand,
  provisionCommand,
  tpmStatusCommand,
];
