import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { EdgesealError } from '../core/errors.js';
import type { BootSelector, BootState } from './boot-selector.js';
import { isSlotId, type SlotId } from './slot.js';

const run = promisify(execFile);

// A boot selector driven by the bootloader's own environment tools, run as argv arrays (never a
// shell): GRUB  { print: ['grub-editenv', ENV, 'list'], set: ['grub-editenv', ENV, 'set'], setStyle: 'assign' }
//        U-Boot { print: ['fw_printenv'], set: ['fw_setenv'], setStyle: 'pair' }
export interface CommandBootSelectorConfig {
  readonly print: readonly string[]; // prints the environment as key=value lines
  readonly set: readonly string[]; // prefix that sets variables
  // 'assign': one call with every `key=value` (atomic with grub-editenv); 'pair': one `key value` call per variable
  readonly setStyle: 'assign' | 'pair';
  readonly vars?: Partial<Record<keyof BootState, string>>;
  // read the booted slot from the kernel command line (e.g. { path: '/proc/cmdline', key: 'edgeseal.slot' })
  readonly cmdline?: { readonly path: string; readonly key: string };
  readonly timeoutMs?: number;
}

const DEFAULT_VARS: Record<keyof BootState, string> = { active: 'edgeseal_booted', good: 'edgeseal_good', trySlot: 'edgeseal_try', tryCount: 'edgeseal_tries' };

export class CommandBootSelector implements BootSelector {
  private readonly vars: Record<keyof BootState, string>;

  constructor(private readonly config: CommandBootSelectorConfig) {
    this.vars = { ...DEFAULT_VARS, ...config.vars };
  }

  async state(): Promise<BootState> {
    const env = parseEnv(await this.exec([...this.config.print]));
    const active = this.config.cmdline ? await readCmdline(this.config.cmdline) : env.get(this.vars.active);
    const good = env.get(this.vars.good);
    const trySlot = env.get(this.vars.trySlot) || null;
    const tryCount = env.get(this.vars.tryCount) || '0';
    if (!isSlotId(active) || !isSlotId(good) || !(trySlot === null || isSlotId(trySlot)) || !/^\d+$/.test(tryCount)) {
      const found = JSON.stringify({ active, good, trySlot, tryCount });
      throw new EdgesealError('STORAGE_ERROR', `boot environment: expected slots A|B and a try count, found ${found}`);
    }
    return { active, good, trySlot, tryCount: Number(tryCount) };
  }

  async active(): Promise<SlotId> {
    return (await this.state()).active;
  }

  // Count before slot: with per-variable writes a crash in between leaves no trial armed.
  setTryOnce(slot: SlotId, tries = 1): Promise<void> {
    return this.setVars([
      [this.vars.tryCount, String(tries)],
      [this.vars.trySlot, slot],
    ]);
  }

  // Good first: a crash before the trial is disarmed then boots `slot` either way.
  markGood(slot: SlotId): Promise<void> {
    return this.setVars([
      [this.vars.good, slot],
      [this.vars.trySlot, ''],
      [this.vars.tryCount, '0'],
    ]);
  }

  clearTry(): Promise<void> {
    return this.setVars([
      [this.vars.trySlot, ''],
      [this.vars.tryCount, '0'],
    ]);
  }

  private async setVars(pairs: readonly (readonly [string, string])[]): Promise<void> {
    if (this.config.setStyle === 'assign') {
      await this.exec([...this.config.set, ...pairs.map(([k, v]) => `${k}=${v}`)]);
      return;
    }
    // fw_setenv: an empty value deletes the variable, which the bootloader reads as unset
    for (const [k, v] of pairs) await this.exec([...this.config.set, k, ...(v === '' ? [] : [v])]);
  }

  private async exec(argv: string[]): Promise<string> {
    const [file, ...args] = argv;
    if (!file) throw new EdgesealError('CONFIG_INVALID', 'boot selector: expected a command, found an empty argv');
    try {
      const { stdout } = await run(file, args, { timeout: this.config.timeoutMs ?? 10_000, encoding: 'utf8' });
      return stdout;
    } catch (err) {
      const stderr = (err as { stderr?: string }).stderr?.trim() ?? '';
      throw new EdgesealError('STORAGE_ERROR', `boot selector command ${JSON.stringify(argv)} failed: ${stderr || (err as Error).message}`, { cause: err });
    }
  }
}

function parseEnv(text: string): Map<string, string> {
  const env = new Map<string, string>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) env.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  return env;
}

async function readCmdline(source: { path: string; key: string }): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(source.path, 'utf8');
  } catch (err) {
    throw new EdgesealError('STORAGE_ERROR', `kernel command line ${source.path}: ${(err as Error).message}`, { cause: err });
  }
  const words = text.trim().split(/\s+/);
  return words.find((w) => w.startsWith(`${source.key}=`))?.slice(source.key.length + 1);
}
