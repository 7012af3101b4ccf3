import { readJournal } from '../ota/install-journal.js';
import { otherSlot } from '../ota/slot.js';
import { readSlotRecords, type SlotRecords } from './agent-state.js';
import { checkImage } from './check-image.js';
import type { Device } from './device.js';
import type { ImageVerifier } from './image-verifier.js';
import { keepRecord } from './install-records.js';
import { slotImage } from './installed-images.js';

// The slot the device did not boot is its fallback: on a device upgraded from a version without install
// records it gets one too, the first time it verifies on today's metadata (ARCHITECTURE H). A slot never
// written (a factory device's empty B) is left alone so that no boot hashes it for nothing.
const SETTLED = new Set(['idle', 'committed', 'rolled-back', 'abandoned']);
const POLICY_REFUSALS = new Set(['ROLLBACK', 'IMAGE_REVOKED', 'KEY_REVOKED', 'BELOW_MINIMUM_VERSION']);

export async function recordOtherSlot(dev: Device, verifier: ImageVerifier, now: Date): Promise<void> {
  const ab = dev.ab;
  if (!ab) return;
  const journal = await readJournal(dev.paths.journal).catch(() => undefined);
  const slot = otherSlot(await ab.selector.active());
  const everWritten = journal?.state !== 'idle' || (await readSlotRecords(dev.paths).catch((): SlotRecords => ({})))[slot] !== undefined;
  if (!journal || !SETTLED.has(journal.state) || !everWritten) return;
  const image = await slotImage(dev, ab, slot);
  if (image.record) return;
  const o = await checkImage(verifier, image, now);
  if (o.verdict.ok) await keepRecord(dev, verifier, image.recordKey, o.verdict.target.name, now);
  // genuine bytes that policy refuses (below the floor, revoked) get their record too, so no later boot hashes them again
  else if (POLICY_REFUSALS.has(o.verdict.code)) await keepRecord(dev, verifier, image.recordKey, image.target, now);
  else dev.logger.child({ component: 'install-record' }).info(`slot ${slot} has no install record and does not verify today [${o.verdict.code}]: none written`);
}
