import { readFile, rm } from 'node:fs/promises';
import { asEdgesealError, EdgesealError } from '../core/errors.js';
import { newestFloor, raiseTimeFloor, type TimeFloor } from '../core/time-floor.js';
import { writeFileAtomic } from '../store/atomic-write.js';
import type { AgentPaths } from './agent-state.js';
import type { Device } from './device.js';

// The persisted P5 time floor: <stateDir>/agent/time-floor.json { at: ISO, source }, written
// atomically, backed by the TPM NV copy (src/trust/time-floor-nv.ts) that deleting the state dir
// cannot reset. A damaged file is rebuilt from the evidence the device still holds, and reported.

export type TimeFloorDevice = Pick<Device, 'paths' | 'trust' | 'revocations' | 'clock' | 'logger' | 'report'>;

type FileFloor = { readonly floor: TimeFloor | undefined } | { readonly damaged: string };

async function readFloorFile(paths: AgentPaths): Promise<FileFloor> {
  let text: string;
  try {
    text = await readFile(paths.timeFloor, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { floor: undefined };
    throw new EdgesealError('STORAGE_ERROR', `${paths.timeFloor}: ${(err as Error).message}`, { cause: err });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { damaged: `expected JSON, found a parse error: ${(err as Error).message}` };
  }
  const { at, source } = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const time = typeof at === 'string' ? new Date(at) : undefined;
  if (!time || !Number.isFinite(time.getTime()) || typeof source !== 'string') return { damaged: `expected { at: ISO time, source }, found ${text.slice(0, 200)}` };
  return { floor: { at: time, source } };
}

async function writeFloorFile(paths: AgentPaths, floor: TimeFloor): Promise<void> {
  await writeFileAtomic(paths.timeFloor, `${JSON.stringify({ at: floor.at.toISOString(), source: floor.source })}\n`);
}

// The floor in the TPM; a TPM problem here is logged, never fatal (the file still counts).
async function nvFloor(dev: TimeFloorDevice): Promise<TimeFloor | undefined> {
  try {
    const at = await dev.trust.readTimeFloor();
    return at ? { at, source: 'TPM NV time floor' } : undefined;
  } catch (err) {
    dev.logger.child({ component: 'clock' }).warn(`TPM NV time floor unreadable: ${asEdgesealError(err).message}`);
    return undefined;
  }
}

// The newest revocation list `issued` the device verified: signed evidence of the time.
function listFloor(dev: TimeFloorDevice): TimeFloor | undefined {
  const list = dev.revocations.status(dev.clock()).list;
  return list ? { at: new Date(list.issued), source: `revocation list v${list.version} issued` } : undefined;
}

// max(file, NV): deleting the file cannot lower the floor below what the TPM holds. A damaged file is
// rebuilt from max(NV, newest verified revocation list issued), reported, and written back when it can be.
export async function readTimeFloor(dev: TimeFloorDevice): Promise<TimeFloor | undefined> {
  const file = await readFloorFile(dev.paths);
  const nv = await nvFloor(dev);
  if ('floor' in file) return newestFloor(file.floor, nv);
  const repaired = newestFloor(nv, listFloor(dev));
  const detail = `time floor ${dev.paths.timeFloor} damaged (${file.damaged}); repaired to ${repaired ? `${repaired.at.toISOString()} from ${repaired.source}` : 'nothing (no other evidence)'}`;
  dev.logger.child({ component: 'clock' }).warn(detail);
  await dev.report({ type: 'anchor-status', verdict: 'error', code: 'STORAGE_ERROR', detail: detail.slice(0, 512) });
  try {
    if (repaired) await writeFloorFile(dev.paths, { at: repaired.at, source: `repaired from ${repaired.source}` });
    else await rm(dev.paths.timeFloor, { force: true });
  } catch (err) {
    dev.logger.child({ component: 'clock' }).warn(`time floor repair not written: ${(err as Error).message}`);
  }
  return repaired;
}

// Raises the floor to `evidence` if that is newer; never lowers it. The file follows every raise, the
// TPM NV copy each day's worth of advance. Concurrent raisers (update and revocation jobs) can at worst
// lose the smaller of two raises, which the next refresh repeats.
export async function raisePersistedTimeFloor(dev: TimeFloorDevice, evidence: Date, source: string): Promise<TimeFloor | undefined> {
  const current = await readTimeFloor(dev);
  const next = raiseTimeFloor(current, evidence, source);
  if (next) await writeFloorFile(dev.paths, next);
  const newest = next ?? current;
  if (newest) {
    const nv = await dev.trust.raiseTimeFloor(newest.at).catch((err: unknown) => asEdgesealError(err));
    if (nv instanceof EdgesealError) dev.logger.child({ component: 'clock' }).warn(`TPM NV time floor not raised [${nv.code}] ${nv.message}`);
    else if (nv === 'later') dev.logger.child({ component: 'clock' }).info('TPM NV time floor: the TPM asked to slow NV writes (TPM_RC_NV_RATE); raised at a later refresh');
  }
  return next;
}
