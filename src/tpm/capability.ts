import { EdgesealError } from '../core/errors.js';
import type { CommandRunner } from './command.js';
import { TPM_ALG, TPM_CAP, TPM_PT, TPM_SU } from './constants.js';
import { TpmWriter, type TpmReader } from './marshal.js';
import { readPcrSelections, type PcrSelection } from './pcr.js';
import { isTpmRc } from './rc.js';

// TPM-wide commands: start-up, randomness, and what the TPM is and supports.

// TPM2_Startup (Part 3 §9.3). Firmware (or swtpm's startup-clear flag) normally did it already;
// TPM_RC_INITIALIZE then means "already started", which is success for us.
export async function startup(tpm: CommandRunner, type: 'clear' | 'state' = 'clear'): Promise<{ alreadyStarted: boolean }> {
  try {
    const { params: r } = await tpm.run({ cc: 'Startup', params: new TpmWriter().u16(type === 'clear' ? TPM_SU.CLEAR : TPM_SU.STATE).finish() });
    r.end();
    return { alreadyStarted: false };
  } catch (err) {
    if (isTpmRc(err, 'TPM_RC_INITIALIZE')) return { alreadyStarted: true };
    throw err;
  }
}

// TPM2_GetRandom (Part 3 §16.1): the TPM may return fewer bytes than asked (at most a digest's worth).
export async function getRandom(tpm: CommandRunner, count: number): Promise<Uint8Array> {
  const out = new Uint8Array(count);
  for (let done = 0; done < count; ) {
    const { params: r } = await tpm.run({ cc: 'GetRandom', params: new TpmWriter().u16(Math.min(count - done, 32)).finish() });
    const bytes = r.tpm2b('randomBytes', count - done);
    r.end();
    if (!bytes.length) throw r.malformed('randomBytes: expected at least 1 byte, found 0');
    out.set(bytes, done);
    done += bytes.length;
  }
  return out;
}

// TPM2_ReadClock (Part 3 §29.1): resetCount goes up at every TPM Reset (each boot), and nothing at
// locality 0 can lower it; restartCount counts resumes since.
export async function readClock(tpm: CommandRunner): Promise<{ resetCount: number; restartCount: number }> {
  const { params: r } = await tpm.run({ cc: 'ReadClock' });
  r.u64('time');
  r.u64('clock');
  const resetCount = r.u32('resetCount');
  const restartCount = r.u32('restartCount');
  r.u8('safe');
  r.end();
  return { resetCount, restartCount };
}

const MAX_LIST = 1024;
// A real TPM lists its properties, algorithms or NV indices in a few rounds and well under these; a
// hostile one that keeps setting moreData must not make us loop or allocate without end.
const MAX_ROUNDS = 64;
const MAX_ITEMS = 8192;

// TPM2_GetCapability (Part 3 §30.2), following moreData until the TPM has listed everything.
async function getCapabilityAll<T>(
  tpm: CommandRunner,
  capability: number,
  first: number,
  readItems: (r: TpmReader) => T[],
  nextProperty: (last: T) => number,
): Promise<T[]> {
  const all: T[] = [];
  for (let property = first, round = 1; ; round++) {
    const { params: r } = await tpm.run({ cc: 'GetCapability', params: new TpmWriter().u32(capability).u32(property).u32(MAX_LIST).finish() });
    const more = r.u8('moreData');
    const cap = r.u32('capabilityData.capability');
    if (cap !== capability) throw r.malformed(`capability: expected 0x${capability.toString(16)}, found 0x${cap.toString(16)}`);
    const items = readItems(r);
    r.end();
    all.push(...items);
    const last = items.at(-1);
    if (!more || last === undefined) return all;
    if (round >= MAX_ROUNDS || all.length >= MAX_ITEMS) {
      throw r.malformed(`moreData: expected the list to end within ${MAX_ROUNDS} responses and ${MAX_ITEMS} entries, found ${round} responses and ${all.length} entries with more to come`);
    }
    const next = nextProperty(last);
    if (next <= property) throw r.malformed(`moreData set but the list did not advance past 0x${property.toString(16)}`);
    property = next;
  }
}

// TPM_PT → value for every fixed property from `first` on (TPML_TAGGED_TPM_PROPERTY).
export async function getTpmProperties(tpm: CommandRunner, first: number = TPM_PT.FAMILY_INDICATOR): Promise<Map<number, number>> {
  const items = await getCapabilityAll(
    tpm,
    TPM_CAP.TPM_PROPERTIES,
    first,
    (r) => Array.from({ length: r.count('properties.count', MAX_LIST) }, (_, i) => ({ property: r.u32(`properties[${i}].property`), value: r.u32(`properties[${i}].value`) })),
    (last) => last.property + 1,
  );
  return new Map(items.map((p) => [p.property, p.value]));
}

export interface TpmIdentity {
  // the four-character vendor id, e.g. 'IBM' for swtpm/libtpms, 'IFX', 'STM', 'NTC', 'INTC'
  readonly manufacturer: string;
  readonly vendor: string;
  // e.g. '1.38' (the TPM 2.0 library revision the TPM implements)
  readonly revision: string;
  readonly firmwareVersion: string;
}

const fourChars = (v: number | undefined): string =>
  String.fromCharCode(...[24, 16, 8, 0].map((s) => ((v ?? 0) >>> s) & 0xff)).replace(/[^\x20-\x7e]/g, '').trim();

export async function getIdentity(tpm: CommandRunner): Promise<TpmIdentity> {
  const p = await getTpmProperties(tpm);
  const family = fourChars(p.get(TPM_PT.FAMILY_INDICATOR));
  if (family !== '2.0') throw new EdgesealError('TPM_ERROR', `TPM_PT_FAMILY_INDICATOR: expected '2.0', found '${family}'`);
  const vendor = [TPM_PT.VENDOR_STRING_1, TPM_PT.VENDOR_STRING_1 + 1, TPM_PT.VENDOR_STRING_1 + 2, TPM_PT.VENDOR_STRING_4].map((k) => fourChars(p.get(k))).join('');
  const fw1 = p.get(TPM_PT.FIRMWARE_VERSION_1) ?? 0;
  const fw2 = p.get(TPM_PT.FIRMWARE_VERSION_2) ?? 0;
  const rev = p.get(TPM_PT.REVISION) ?? 0;
  return {
    manufacturer: fourChars(p.get(TPM_PT.MANUFACTURER)),
    vendor,
    revision: `${Math.floor(rev / 100)}.${String(rev % 100).padStart(2, '0')}`,
    firmwareVersion: `${fw1 >>> 16}.${fw1 & 0xffff}.${fw2 >>> 16}.${fw2 & 0xffff}`,
  };
}

// Every algorithm the TPM implements (TPML_ALG_PROPERTY), with its TPMA_ALGORITHM bits.
export async function getAlgorithms(tpm: CommandRunner): Promise<{ alg: number; name: string | undefined; properties: number }[]> {
  const names = new Map<number, string>(Object.entries(TPM_ALG).map(([k, v]) => [v, k.toLowerCase()]));
  return getCapabilityAll(
    tpm,
    TPM_CAP.ALGS,
    0,
    (r) => Array.from({ length: r.count('algProperties.count', MAX_LIST) }, (_, i) => {
      const alg = r.u16(`algProperties[${i}].alg`);
      return { alg, name: names.get(alg), properties: r.u32(`algProperties[${i}].algProperties`) };
    }),
    (last) => last.alg + 1,
  );
}

// The allocated PCR banks and the PCRs in each (TPM_CAP_PCRS).
export async function getPcrBanks(tpm: CommandRunner): Promise<PcrSelection[]> {
  const { params: r } = await tpm.run({ cc: 'GetCapability', params: new TpmWriter().u32(TPM_CAP.PCRS).u32(0).u32(1).finish() });
  r.u8('moreData');
  const cap = r.u32('capabilityData.capability');
  if (cap !== TPM_CAP.PCRS) throw r.malformed(`capability: expected 0x5, found 0x${cap.toString(16)}`);
  const banks = readPcrSelections(r, 'assignedPCR');
  r.end();
  return banks;
}

// Handles of one type in use, e.g. every defined NV index (TPM_HT_NV_INDEX << 24).
export async function getHandles(tpm: CommandRunner, handleType: number): Promise<number[]> {
  const first = (handleType << 24) >>> 0;
  const handles = await getCapabilityAll(
    tpm,
    TPM_CAP.HANDLES,
    first,
    (r) => Array.from({ length: r.count('handles.count', MAX_LIST) }, (_, i) => r.u32(`handles[${i}]`)),
    (last) => last + 1,
  );
  return handles.filter((h) => h >>> 24 === handleType);
}
