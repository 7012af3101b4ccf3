import { EdgesealError } from '../core/errors.js';

// The PCRs the anchor secret is sealed to. Only the sha256 bank: every TPM 2.0 we target has it,
// and the seal policy, the pin record and the event log all speak sha256.
export interface PcrSelection {
  readonly hash: 'sha256';
  readonly pcrs: readonly number[]; // sorted, unique, 0..23
}

export const DEFAULT_POLICY_PCRS = 'sha256:0,2,4,7';
export const PCR_COUNT = 24;
// TPMS_PCR_SELECTION.sizeofSelect for 24 PCRs
export const PCR_SELECT_BYTES = 3;

// Parses 'sha256:0,2,4,7' (the --pcrs / config form).
export function parsePcrSelection(text: string): PcrSelection {
  const m = /^sha256:(\d{1,2}(?:,\d{1,2})*)$/.exec(text.trim());
  if (!m?.[1]) {
    throw new EdgesealError('USAGE', `PCR selection: expected 'sha256:<n>,<n>,…' (e.g. ${DEFAULT_POLICY_PCRS}), found '${text}'`);
  }
  const pcrs = m[1].split(',').map(Number);
  const bad = pcrs.filter((p) => p >= PCR_COUNT);
  if (bad.length) throw new EdgesealError('USAGE', `PCR selection: expected PCR indices 0..${PCR_COUNT - 1}, found ${bad.join(',')}`);
  return { hash: 'sha256', pcrs: [...new Set(pcrs)].sort((a, b) => a - b) };
}

export function formatPcrSelection(sel: PcrSelection): string {
  return `${sel.hash}:${sel.pcrs.join(',')}`;
}

// The pcrSelect bitmap of TPMS_PCR_SELECTION: bit (n mod 8) of byte (n div 8) selects PCR n.
export function pcrBitmap(sel: PcrSelection): Uint8Array {
  const bits = new Uint8Array(PCR_SELECT_BYTES);
  for (const p of sel.pcrs) bits[p >> 3] |= 1 << (p & 7);
  return bits;
}

export function pcrsFromBitmap(bits: Uint8Array): number[] {
  const pcrs: number[] = [];
  for (let p = 0; p < bits.length * 8; p++) if ((bits[p >> 3] >> (p & 7)) & 1) pcrs.push(p);
  return pcrs;
}
