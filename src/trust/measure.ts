import { open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { EdgesealError } from '../core/errors.js';
import type { TpmClient } from '../tpm/client.js';
import { fsyncDir, writeFileAtomic } from '../store/atomic-write.js';
import { formatEvent, logLines, replayEventLog, type MeasurementEvent } from './event-log.js';

// Measured boot for images (ARCHITECTURE P4): PCR_Extend, then one line appended to the event log.

export interface MeasuredImage {
  readonly name: string;
  readonly version: string;
  readonly sha256: string; // hex
}

export interface MeasurementLog {
  readonly pcr: number;
  readonly path: string;
  readonly previousPath: string;
}

async function readLogText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw new EdgesealError('STORAGE_ERROR', `could not read event log ${path}: ${(err as Error).message}`, { cause: err });
  }
}

export async function readPcr(tpm: TpmClient, pcr: number): Promise<Uint8Array> {
  const { values } = await tpm.pcrRead({ hash: 'sha256', pcrs: [pcr] });
  const value = values.get(pcr);
  if (!value) throw new EdgesealError('TPM_ERROR', `PCR_Read: expected sha256 PCR ${pcr}, found none`);
  return value;
}

// Which boot the log on disk belongs to, kept beside it (<log>.boot): the TPM's resetCount (one more at
// every boot; TPM2_ReadClock) and the PCR's value when the log began. A firmware PCR does not start at
// zero, so "PCR at its reset value" cannot tell a new boot; the resetCount can.
interface BootRecord {
  readonly resetCount: number;
  readonly pcr: number;
  readonly base: string; // hex
}

const bootPath = (logPath: string): string => `${logPath}.boot`;

async function readBootRecord(log: MeasurementLog): Promise<BootRecord | undefined> {
  const text = await readLogText(bootPath(log.path));
  if (text === '') return undefined;
  try {
    const o = JSON.parse(text) as Partial<BootRecord>;
    if (Number.isSafeInteger(o.resetCount) && Number.isInteger(o.pcr) && typeof o.base === 'string' && /^[0-9a-f]{64}$/.test(o.base)) return o as BootRecord;
  } catch {
    // fall through: an unreadable record is reported below
  }
  throw new EdgesealError('EVENT_LOG_MISMATCH', `event log boot record ${bootPath(log.path)}: expected {resetCount, pcr, base}, found ${JSON.stringify(text.slice(0, 80))}`);
}

async function rotate(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new EdgesealError('STORAGE_ERROR', `could not rotate event log ${from}: ${(err as Error).message}`, { cause: err });
  }
}

// At agent start: a boot record from an earlier boot (or none: the first start of this release, or
// another PCR) means the log on disk belongs to before, so it is moved aside with its record and this
// boot's log begins at the PCR's current value.
export async function startMeasurementLog(tpm: TpmClient, log: MeasurementLog): Promise<void> {
  const { resetCount } = await tpm.readClock();
  const record = await readBootRecord(log).catch(() => undefined);
  if (record?.resetCount === resetCount && record.pcr === log.pcr) return;
  const value = await readPcr(tpm, log.pcr);
  if ((await readLogText(log.path)) !== '') {
    await rotate(log.path, log.previousPath);
    await rotate(bootPath(log.path), bootPath(log.previousPath));
    await fsyncDir(dirname(log.path));
  }
  const fresh: BootRecord = { resetCount, pcr: log.pcr, base: Buffer.from(value).toString('hex') };
  try {
    await writeFileAtomic(bootPath(log.path), `${JSON.stringify(fresh)}\n`);
  } catch (err) {
    throw new EdgesealError('STORAGE_ERROR', `could not write event log boot record ${bootPath(log.path)}: ${(err as Error).message}`, { cause: err });
  }
}

// Extends the PCR first (the TPM is the record; a crash before the append shows as a log mismatch,
// never as a log claiming a measurement the PCR lacks), then appends and fsyncs the line.
export async function measure(tpm: TpmClient, log: MeasurementLog, image: MeasuredImage, now: Date): Promise<MeasurementEvent> {
  if (!/^[0-9a-f]{64}$/.test(image.sha256)) {
    throw new EdgesealError('INTERNAL', `measure ${image.name}: expected a sha256 hex digest, found ${JSON.stringify(image.sha256)}`);
  }
  const event: MeasurementEvent = { pcr: log.pcr, digest: image.sha256, image: image.name, version: image.version, time: now.toISOString() };
  await tpm.pcrExtend(log.pcr, [{ hash: 'sha256', digest: Buffer.from(image.sha256, 'hex') }]);
  try {
    const fh = await open(log.path, 'a', 0o644);
    try {
      await fh.appendFile(`${formatEvent(event)}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (err) {
    throw new EdgesealError('STORAGE_ERROR', `could not append to event log ${log.path}: ${(err as Error).message}`, { cause: err });
  }
  return event;
}

// Replays the log on disk against the PCR in the TPM right now (EVENT_LOG_MISMATCH if they differ).
export async function verifyMeasurementLog(tpm: TpmClient, log: MeasurementLog): Promise<MeasurementEvent[]> {
  const lines = logLines(await readLogText(log.path));
  const record = await readBootRecord(log);
  // no record: nothing started this log (a read-only caller before the first start), so it began at zero
  const base = record && record.pcr === log.pcr ? Buffer.from(record.base, 'hex') : new Uint8Array(32);
  return replayEventLog(lines, await readPcr(tpm, log.pcr), log.pcr, base);
}
