import { posix } from 'node:path';
import type { BootSelectorConfig } from '../config/schema.js';
import { EdgesealError } from '../core/errors.js';
import { parentDir, unitPath } from './unit-path.js';

// One device or path a unit needs: 'r' or 'rw' for the agent and for the boot check (absent: none).
export interface Grant {
  readonly kind: 'device' | 'path';
  readonly path: string;
  readonly agent?: 'r' | 'rw';
  readonly check?: 'r' | 'rw';
  readonly why: string;
  readonly waitFor?: true; // a block device the units order after (Wants=, After= on its device unit)
}

// fw_env.config as read on the device (the U-Boot tools find the environment's device through it).
export interface FwEnvConfig {
  readonly path: string;
  readonly text: string;
}

const UBOOT = new Set(['fw_setenv', 'fw_printenv']);
const GRUB = new Set(['grub-editenv', 'grub2-editenv']);
const FW_ENV_DEFAULT = '/etc/fw_env.config';
// U-Boot's tools and libubootenv both create and flock DIR/fw_printenv.lock, for print and set alike;
// DIR is /var/lock unless -l/--lock names another (newer U-Boot tools).
const FW_LOCK_DIR = '/var/lock';

const tool = (argv: readonly string[]): string => posix.basename(argv[0] ?? '');

// The value of `-x V`, `--long V` or `--long=V` in the U-Boot tools' argv (set first, then print).
function toolOption(argvs: readonly (readonly string[])[], short: string, long: string): string | undefined {
  for (const argv of argvs) {
    for (let i = 1; i < argv.length; i++) {
      const a = argv[i];
      if ((a === short || a === long) && argv[i + 1]) return argv[i + 1];
      if (a.startsWith(`${long}=`)) return a.slice(long.length + 1);
    }
  }
  return undefined;
}

function ubootArgv(selector: BootSelectorConfig | undefined): (readonly string[])[] | undefined {
  if (!selector || !('commands' in selector)) return undefined;
  const { print, set } = selector.commands;
  return UBOOT.has(tool(print)) || UBOOT.has(tool(set)) ? [set, print] : undefined;
}

// The fw_env.config the U-Boot tools read (-c/--config in either argv), or undefined for other selectors.
export function fwEnvConfigPath(selector: BootSelectorConfig | undefined): string | undefined {
  const argvs = ubootArgv(selector);
  return argvs && (toolOption(argvs, '-c', '--config') ?? FW_ENV_DEFAULT);
}

// The environment's devices (or files): the first field of each line that is not blank or a comment.
export function fwEnvDevices(fwEnv: FwEnvConfig): string[] {
  const devices = fwEnv.text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => l.split(/\s+/)[0]);
  if (devices.length === 0) throw new EdgesealError('CONFIG_INVALID', `systemd-units: ${fwEnv.path}: expected at least one 'device offset size' line, found none`);
  return devices;
}

// What reading and arming the boot slot touches. The boot check only reads the selector; the agent arms
// trials, marks slots good and falls back. Unknown commands get a note instead of a guess.
export function bootSelectorGrants(selector: BootSelectorConfig | undefined, fwEnv: FwEnvConfig | undefined): { grants: Grant[]; notes: string[] } {
  if (!selector) return { grants: [], notes: [] };
  if ('file' in selector) {
    return { grants: [{ kind: 'path', path: parentDir('update.bootSelector.file', selector.file), agent: 'rw', why: 'the boot selector file (update.bootSelector.file), replaced atomically in its directory' }], notes: [] };
  }
  const { print, set } = selector.commands;
  if (GRUB.has(tool(set))) {
    const file = set.slice(1).find((a) => !a.startsWith('-'));
    if (!file) throw new EdgesealError('CONFIG_INVALID', `systemd-units: update.bootSelector.commands.set: expected ['grub-editenv', FILE, 'set'], found ${JSON.stringify(set)}`);
    return { grants: [{ kind: 'path', path: parentDir('update.bootSelector.commands.set', file), agent: 'rw', why: `grubenv (${file}), which grub-editenv rewrites` }], notes: [] };
  }
  const configPath = fwEnvConfigPath(selector);
  if (configPath !== undefined) {
    if (!fwEnv) throw new EdgesealError('CONFIG_INVALID', `systemd-units: the boot selector runs U-Boot's env tools: expected the text of ${configPath}, found none`);
    const grants: Grant[] = fwEnvDevices(fwEnv).map((dev) =>
      dev.startsWith('/dev/')
        ? { kind: 'device', path: unitPath(fwEnv.path, dev), agent: 'rw', check: 'r', why: `the U-Boot environment (${fwEnv.path}): fw_setenv writes it, fw_printenv reads it` }
        : { kind: 'path', path: parentDir(fwEnv.path, dev), agent: 'rw', why: `the U-Boot environment file (${fwEnv.path}), which fw_setenv rewrites` },
    );
    const lockDir = toolOption([set, print], '-l', '--lock') ?? FW_LOCK_DIR;
    grants.push({ kind: 'path', path: unitPath('update.bootSelector.commands (-l)', lockDir), agent: 'rw', check: 'rw', why: `fw_printenv and fw_setenv lock ${lockDir}/fw_printenv.lock` });
    return { grants, notes: [] };
  }
  return { grants: [], notes: [`the boot selector commands ${JSON.stringify(print[0])} and ${JSON.stringify(set[0])} are not grub-editenv or fw_setenv: add what they write in a drop-in of your own (e.g. 60-local.conf)`] };
}
