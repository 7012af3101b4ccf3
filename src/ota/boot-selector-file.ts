import { readFile } from 'node:fs/promises';
import { EdgesealError } from '../core/errors.js';
import { writeFileAtomic } from '../store/atomic-write.js';
import { nextBootSlot, type BootSelector, type BootState } from './boot-selector.js';
import { isSlotId, type SlotId } from './slot.js';

// The boot selector file's text as a BootState, or STORAGE_ERROR quoting (the start of) what it holds.
export function parseBootState(path: string, text: string): BootState {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new EdgesealError('STORAGE_ERROR', `boot selector ${path}: ${(err as Error).message}`, { cause: err });
  }
  const { active, good, trySlot, tryCount } = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  if (!isSlotId(active) || !isSlotId(good) || !(trySlot === null || isSlotId(trySlot)) || !Number.isSafeInteger(tryCount) || (tryCount as number) < 0) {
    throw new EdgesealError('STORAGE_ERROR', `boot selector ${path}: expected {active, good, trySlot, tryCount}, found ${text.slice(0, 200)}`);
  }
  return { active, good, trySlot, tryCount: tryCount as number };
}

// A boot selector kept in one JSON file, written atomically: for tests, and for devices whose
// bootloader reads a file. simulateBoot() plays the bootloader's part at a reboot.
export class FileBootSelector implements BootSelector {
  constructor(private readonly path: string) {}

  // Starts a device that boots `slot`, with no trial armed.
  static async create(path: string, slot: SlotId): Promise<FileBootSelector> {
    const selector = new FileBootSelector(path);
    await selector.write({ active: slot, good: slot, trySlot: null, tryCount: 0 });
    return selector;
  }

  async state(): Promise<BootState> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      throw new EdgesealError('STORAGE_ERROR', `boot selector ${this.path}: ${(err as Error).message}`, { cause: err });
    }
    return parseBootState(this.path, text);
  }

  async active(): Promise<SlotId> {
    return (await this.state()).active;
  }

  async setTryOnce(slot: SlotId, tries = 1): Promise<void> {
    await this.write({ ...(await this.state()), trySlot: slot, tryCount: tries });
  }

  async markGood(slot: SlotId): Promise<void> {
    await this.write({ ...(await this.state()), good: slot, trySlot: null, tryCount: 0 });
  }

  async clearTry(): Promise<void> {
    await this.write({ ...(await this.state()), trySlot: null, tryCount: 0 });
  }

  // A reboot: the bootloader picks the slot and consumes one trial.
  async simulateBoot(): Promise<SlotId> {
    const s = await this.state();
    const active = nextBootSlot(s);
    await this.write({ ...s, active, tryCount: active === s.trySlot && s.tryCount > 0 ? s.tryCount - 1 : s.tryCount });
    return active;
  }

  private write(s: BootState): Promise<void> {
    return writeFileAtomic(this.path, `${JSON.stringify(s)}\n`);
  }
}
