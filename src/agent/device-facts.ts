import { readJournal } from '../ota/install-journal.js';
import type { SlotId } from '../ota/slot.js';
import type { RevocationCache } from '../revocation/cache.js';
import type { DeviceFacts, SlotFacts } from '../telemetry/event-v2.js';
import type { DeviceReport } from '../telemetry/reporter.js';
import type { Trust } from '../trust/establish.js';
import { readAgentStatus, readSlotRecords, type AgentPaths, type AgentStatus } from './agent-state.js';
import type { AbImage } from './device.js';
import { readInstallRecord, slotRecordKey } from './install-records.js';
import { revocationRef } from './revocation-freshness.js';
import { slotInFlight } from './slot-in-flight.js';

// What the periodic metrics event tells the fleet inventory (schema 2): per slot the image it holds,
// active and good slot, the TPM floors, root and revocation list version. Read from the agent's own
// state each time (the status the last boot check wrote, the slot records, the TPM), never cached.
export interface FactsSources {
  readonly ab: Pick<AbImage, 'selector'> | undefined;
  readonly paths: AgentPaths;
  readonly trust: Pick<Trust, 'readFloors'>;
  readonly revocations: Pick<RevocationCache, 'status'>;
  readonly clock: () => Date;
}

type Doc = { signed?: { targets?: Record<string, { custom?: { version?: unknown } }> } };

// The version a slot's install record names for its target (a hint: the record is the device's own copy
// of the metadata that vouched for the image; it is re-verified whenever the image is booted).
async function fromInstallRecord(paths: AgentPaths, slot: SlotId): Promise<SlotFacts | undefined> {
  const bytes = await readInstallRecord(paths, slotRecordKey(slot));
  if (!bytes) return undefined;
  const rec = JSON.parse(Buffer.from(bytes).toString('utf8')) as { target?: { name?: string; sha256?: string }; targets?: string; delegated?: Record<string, string> };
  const name = rec.target?.name;
  if (!name) return undefined;
  const docs = [rec.targets, ...Object.values(rec.delegated ?? {})].filter((b): b is string => typeof b === 'string');
  const version = docs.map((b) => (JSON.parse(Buffer.from(b, 'base64').toString('utf8')) as Doc).signed?.targets?.[name]?.custom?.version).find((v) => typeof v === 'string');
  return { target: name, ...(typeof version === 'string' ? { version } : {}), ...(rec.target?.sha256 ? { sha256: rec.target.sha256 } : {}) };
}

async function slotFacts(src: FactsSources, ab: Pick<AbImage, 'selector'>, status: AgentStatus): Promise<Pick<DeviceFacts, 'slots' | 'active' | 'good'>> {
  const [state, records, journal] = await Promise.all([ab.selector.state(), readSlotRecords(src.paths), readJournal(src.paths.journal)]);
  const inFlight = slotInFlight(journal);
  const slots: DeviceFacts['slots'] = {};
  for (const slot of ['A', 'B'] as const) {
    // a slot being written holds no whole image: neither its old target (its record) nor the new one yet
    if (inFlight?.slot === slot && inFlight.state === 'writing') continue;
    // the active slot as its boot check verified it; another slot as it was staged, else as its install record says
    const booted = slot === state.active ? status.boot?.images.find((i) => i.slot === slot && i.verdict === 'verified') : undefined;
    const staged = inFlight?.slot === slot ? journal.install?.target : records[slot];
    const facts = booted
      ? { target: booted.target, ...(booted.version ? { version: booted.version } : {}), ...(booted.sha256 ? { sha256: booted.sha256 } : {}) }
      : staged
        ? { target: staged.name, version: staged.version, sha256: staged.sha256 }
        : await fromInstallRecord(src.paths, slot).catch(() => undefined);
    if (facts) slots[slot] = facts;
  }
  return { slots, active: state.active, good: state.good };
}

export async function deviceReport(src: FactsSources): Promise<DeviceReport> {
  const status = await readAgentStatus(src.paths);
  const [floors, slotPart] = await Promise.all([src.trust.readFloors(), src.ab ? slotFacts(src, src.ab, status) : { slots: {} }]);
  const revocation = revocationRef(src.revocations.status(src.clock()));
  const rootVersion = status.boot?.rootVersion;
  return {
    device: { ...slotPart, floors: { rootVersion: floors.rootVersion, securityVersion: floors.securityVersion, revocationVersion: floors.revocationVersion, targetsVersion: floors.targetsVersion } },
    ...(rootVersion ? { rootVersion } : {}),
    ...(revocation ? { revocation } : {}),
  };
}
