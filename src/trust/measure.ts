import { open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { EdgesealError } from '../core/errors.js';
import type { TpmClient } from '../tpm/client.js';
import { fsyncDir } from '../store/atomic-write.js';
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

const ZERO = new Uint8Array(32);

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

// At agent start: a PCR still at its reset value means a new boot, so the log on disk belongs to the
// previous boot and is moved aside (the PCR and its log must start from zero together).
export async function startMeasurementLog(tpm: TpmClient, log: MeasurementLog): Promise<void> {
  const value = await readPcr(tpm, log.pcr);
  if (Buffer.compare(value, ZERO) !== 0 || (await readLogText(log.path)) === '') return;
  try {
    await rename(log.path, log.previousPath);
    await fsyncDir(dirname(log.path));
  } catch (err) {
    throw new EdgesealError('STORAGE_ERROR', `could not rotate event log ${log.path}: ${(err as Error).message}`, { cause: err });
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
  return replayEventLog(lines, await readPcr(tpm, log.pcr), log.pcr);
}
