import type { BootSelectorConfig } from '../config/schema.js';
import { CommandBootSelector } from '../ota/boot-selector-command.js';
import { FileBootSelector } from '../ota/boot-selector-file.js';
import type { BootSelector } from '../ota/boot-selector.js';

// The boot selector the config names: a JSON file, or the bootloader's env tools run as argv.
export function bootSelectorFrom(config: BootSelectorConfig): BootSelector {
  return 'file' in config ? new FileBootSelector(config.file) : new CommandBootSelector(config.commands);
}
