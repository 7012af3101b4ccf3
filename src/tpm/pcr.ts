import { EdgesealError } from '../core/errors.js';
import { EMPTY_PASSWORD, type CommandRunner } from './command.js';
import { HASH_ALG, HASH_SIZE, hashName, type HashName } from './constants.js';
import { TpmWriter, type TpmReader } from './marshal.js';

// A set of PCRs in one bank (structurally the trust layer's PcrSelection).
export interface PcrSelection {
  readonly hash: HashName;
  readonly pcrs: readonly number[];
}

export const PCR_SELECT_MIN = 3; // 24 PCRs: the PC Client minimum
const MAX_BANKS = 16;
const MAX_DIGESTS = 8; // TPML_DIGEST holds at most 8 (Part 2 Table 109)

// TPML_PCR_SELECTION: count, then per bank { hash, sizeofSelect, pcrSelect bitmap (bit n%8 of byte n/8) }.
export function marshalPcrSelections(w: TpmWriter, sels: readonly PcrSelection[]): TpmWriter {
  w.u32(sels.length);
  for (const sel of sels) {
    const size = Math.max(PCR_SELECT_MIN, ...sel.pcrs.map((p) => (p >> 3) + 1));
    const bits = new Uint8Array(size);
    for (const p of sel.pcrs) {
      if (!Number.isInteger(p) || p < 0 || p > 255) throw new EdgesealError('INTERNAL', `PCR selection: expected PCR index 0..255, found ${p}`);
      bits[p >> 3] |= 1 << (p & 7);
    }
    w.u16(HASH_ALG[sel.hash]).u8(size).bytes(bits);
  }
  return w;
}

// Reads TPML_PCR_SELECTION; banks of hash algorithms we do not know are kept out (they never match a request).
export function readPcrSelections(r: TpmReader, field = 'pcrSelection'): PcrSelection[] {
  const n = r.count(`${field}.count`, MAX_BANKS);
  const out: PcrSelection[] = [];
  for (let i = 0; i < n; i++) {
    const alg = r.u16(`${field}[${i}].hash`);
    const bits = r.bytes(r.u8(`${field}[${i}].sizeofSelect`), `${field}[${i}].pcrSelect`);
    const pcrs: number[] = [];
    for (let p = 0; p < bits.length * 8; p++) if ((bits[p >> 3] >> (p & 7)) & 1) pcrs.push(p);
    const hash = hashName(alg);
    if (hash) out.push({ hash, pcrs });
  }
  return out;
}

export interface PcrValues {
  readonly updateCounter: number;
  // PCR index → digest, for every PCR asked for
  readonly values: ReadonlyMap<number, Uint8Array>;
}

// TPM2_PCR_Read (Part 3 §22.4): the TPM returns at most 8 digests per call, so read until all are in,
// starting over if pcrUpdateCounter moves in between (the set must be one consistent snapshot).
export async function pcrRead(tpm: CommandRunner, sel: PcrSelection): Promise<PcrValues> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const values = new Map<number, Uint8Array>();
    let counter: number | undefined;
    let remaining = [...new Set(sel.pcrs)].sort((a, b) => a - b);
    while (remaining.length) {
      const { params: r } = await tpm.run({ cc: 'PCR_Read', params: marshalPcrSelections(new TpmWriter(), [{ hash: sel.hash, pcrs: remaining }]).finish() });
      const updateCounter = r.u32('pcrUpdateCounter');
      const got = readPcrSelections(r, 'pcrSelectionOut').find((s) => s.hash === sel.hash)?.pcrs ?? [];
      const digests = Array.from({ length: r.count('pcrValues.count', MAX_DIGESTS) }, (_, i) => r.tpm2b(`pcrValues[${i}]`));
      r.end();
      if (digests.length !== got.length) throw r.malformed(`pcrValues: expected ${got.length} digests for the selection returned, found ${digests.length}`);
      if (counter !== undefined && counter !== updateCounter) break;
      counter = updateCounter;
      const fresh = got.filter((p) => remaining.includes(p));
      if (!fresh.length) {
        throw new EdgesealError('TPM_ERROR', `TPM2_PCR_Read: expected ${sel.hash} PCRs ${remaining.join(',')}, the TPM returned none (bank not allocated?)`);
      }
      got.forEach((p, i) => {
        const d = digests[i];
        if (d.length !== HASH_SIZE[sel.hash]) throw r.malformed(`PCR ${p}: expected a ${HASH_SIZE[sel.hash]}-byte ${sel.hash} digest, found ${d.length}`);
        if (remaining.includes(p)) values.set(p, d);
      });
      remaining = remaining.filter((p) => !values.has(p));
    }
    if (!remaining.length && counter !== undefined) return { updateCounter: counter, values };
  }
  throw new EdgesealError('TPM_ERROR', `TPM2_PCR_Read: PCRs kept changing while reading ${sel.hash}:${sel.pcrs.join(',')}`);
}

// TPM2_PCR_Extend (Part 3 §22.2): new = H(old || digest) in each bank given. PCR auth is the empty password.
export async function pcrExtend(tpm: CommandRunner, pcr: number, digests: readonly { hash: HashName; digest: Uint8Array }[]): Promise<void> {
  const w = new TpmWriter().u32(digests.length);
  for (const { hash, digest } of digests) {
    if (digest.length !== HASH_SIZE[hash]) throw new EdgesealError('INTERNAL', `PCR_Extend: expected a ${HASH_SIZE[hash]}-byte ${hash} digest, found ${digest.length}`);
    w.u16(HASH_ALG[hash]).bytes(digest);
  }
  const { params } = await tpm.run({ cc: 'PCR_Extend', handles: [pcr], auths: [EMPTY_PASSWORD], params: w.finish() });
  params.end();
}
