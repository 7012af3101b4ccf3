import { EdgesealError } from '../core/errors.js';
import type { TpmClient } from '../tpm/client.js';
import { ownerAuth, type NvAuth, type NvPublic } from '../tpm/nv.js';
import { isTpmRc } from '../tpm/rc.js';
import type { SaltedSession } from '../tpm/salted-session.js';
import { floorFromCounter, incrementsToRaise, type Floors } from './floors.js';
import { TPMA_NV } from '../tpm/constants.js';
import { COUNTER_ATTRIBUTES, COUNTER_ATTRIBUTES_WRITTEN, COUNTER_DEFINITION, checkNvAttributes, describeNvAttributes, hex } from './nv-layout.js';
import { FLOOR_KINDS, type FloorKind, type NvPin } from './nv-pin.js';

// The anti-rollback floors in TPM NV counters (ARCHITECTURE P3): reading, raising, and creating them.

// NV_ReadPublic of an index, or undefined when no index is defined at that handle.
export async function readNvPublicIfDefined(tpm: TpmClient, index: number): Promise<NvPublic | undefined> {
  try {
    return (await tpm.nvReadPublic(index)).public;
  } catch (err) {
    // TPM_RC_HANDLE on handle 1: nothing is defined at this index
    if (isTpmRc(err, 'TPM_RC_HANDLE')) return undefined;
    throw err;
  }
}

// Reads one counter after checking it is still the counter the pin names (type, attributes, written);
// under a salted session the value is HMAC-authenticated and the index's Name checked by the TPM.
async function readCounter(tpm: TpmClient, pin: NvPin, kind: FloorKind, auth: NvAuth, session?: SaltedSession): Promise<bigint> {
  const { nvIndex } = pin.counters[kind];
  const pub = await readNvPublicIfDefined(tpm, nvIndex);
  if (!pub) throw new EdgesealError('NV_PIN_INVALID', `${kind} counter ${hex(nvIndex)}: expected the NV counter named by the pin, found no index`);
  checkNvAttributes(`${kind} counter`, nvIndex, COUNTER_ATTRIBUTES_WRITTEN, pub.attributes.raw);
  return tpm.nvReadCounter(nvIndex, auth, session && { session, nvName: pub.name });
}

export async function readFloors(tpm: TpmClient, pin: NvPin, auth: NvAuth = ownerAuth(), session?: SaltedSession): Promise<Floors> {
  const floors = {} as Record<FloorKind, number>;
  for (const kind of FLOOR_KINDS) floors[kind] = floorFromCounter(kind, await readCounter(tpm, pin, kind, auth, session), pin.counters[kind].base);
  return floors;
}

// Raises one floor to `value` (TPM2_NV_Increment, value − floor times); lowering is FLOOR_VIOLATION.
// Call only after the new install is confirmed good: there is no way back down.
export async function raiseFloor(tpm: TpmClient, pin: NvPin, kind: FloorKind, value: number, auth: NvAuth = ownerAuth(), session?: SaltedSession): Promise<number> {
  const { nvIndex, base } = pin.counters[kind];
  const current = floorFromCounter(kind, await readCounter(tpm, pin, kind, auth, session), base);
  const steps = incrementsToRaise(kind, current, value);
  for (let i = 0; i < steps; i++) await tpm.nvIncrement(nvIndex, auth);
  return floorFromCounter(kind, await readCounter(tpm, pin, kind, auth, session), base);
}

// Provisioning: defines the counter if absent and initialises it (the first NV_Increment sets it to the
// highest value the TPM has seen, Part 3 §31.8), then returns its value — the base for floor 0.
// An existing counter with other attributes is not ours: it is replaced only when `replace` is set.
export async function prepareCounter(tpm: TpmClient, kind: FloorKind, nvIndex: number, replace: boolean, auth: NvAuth = ownerAuth()): Promise<bigint> {
  let pub = await readNvPublicIfDefined(tpm, nvIndex);
  if (pub && (pub.attributes.raw & ~TPMA_NV.WRITTEN) >>> 0 !== COUNTER_ATTRIBUTES) {
    if (!replace) {
      throw new EdgesealError(
        'ANCHOR_EXISTS',
        `${kind} counter ${hex(nvIndex)}: expected no index or our counter, found one with attributes ${describeNvAttributes(pub.attributes.raw)}; use --force to replace it`,
      );
    }
    await tpm.nvUndefineSpace(nvIndex, auth);
    pub = undefined;
  }
  if (!pub) await tpm.nvDefineSpace({ index: nvIndex, ...COUNTER_DEFINITION, dataSize: 8 }, auth);
  if (!pub?.attributes.written) await tpm.nvIncrement(nvIndex, auth);
  return tpm.nvReadCounter(nvIndex, auth);
}
