import type { SlotId } from './slot.js';

// What the bootloader knows. The bootloader's rule (U-Boot bootcount / GRUB next_entry style):
// if `trySlot` is set and `tryCount` > 0, decrement tryCount and boot trySlot; otherwise boot `good`.
export interface BootState {
  readonly active: SlotId; // the slot the running system was booted from
  readonly good: SlotId; // the slot the bootloader falls back to
  readonly trySlot: SlotId | null; // armed for a trial boot
  readonly tryCount: number; // trial boots left
}

export interface BootSelector {
  state(): Promise<BootState>;
  active(): Promise<SlotId>;
  // Arms one (or `tries`) trial boots of `slot`; `good` is untouched, so a failed trial falls back.
  setTryOnce(slot: SlotId, tries?: number): Promise<void>;
  // Makes `slot` the fallback and disarms any trial: the commit point of an update.
  markGood(slot: SlotId): Promise<void>;
  // Disarms a trial without changing `good`: abandoning an update before or after its trial.
  clearTry(): Promise<void>;
}

// The slot the bootloader will start next, by the rule above (used to check the crash invariant).
export function nextBootSlot(s: BootState): SlotId {
  return s.trySlot !== null && s.tryCount > 0 ? s.trySlot : s.good;
}
