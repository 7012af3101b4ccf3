import { createHash } from 'node:crypto';
import { EdgesealError } from '../core/errors.js';
import { PCR_COUNT } from './pcr-selection.js';

// The measurement event log (ARCHITECTURE P4): one JSON line per PCR_Extend, so a remote verifier can
// replay the PCR. As in TCG PC Client logs, the extended value is the image digest; name, version and
// time are informational — a verifier maps the digest to a target through signed TUF metadata.
export interface MeasurementEvent {
  readonly pcr: number;
  readonly digest: string; // sha256 of the image, lowercase hex
  readonly image: string;
  readonly version: string;
  readonly time: string; // ISO 8601
}

// PCR 6 (docs/measurement-pcr.md): of the PCRs a locality-0 process can extend, 16 and 23 are reset by
// TPM2_PCR_Reset at locality 0 (local root could forge a fresh history) and 8–15 belong to the boot chain
// (GRUB, IMA, systemd, shim); 17–22 cannot even be extended at locality 0. That leaves the SRTM PCRs
// 0–7 outside the default seal set 0,2,4,7; PCR 6 ("host platform / state transitions") holds no more
// than firmware's separator on the platforms we target, and only a TPM Reset (a boot) clears it.
export const DEFAULT_MEASUREMENT_PCR = 6;
const HEX_SHA256 = /^[0-9a-f]{64}$/;

export function formatEvent(e: MeasurementEvent): string {
  return JSON.stringify({ pcr: e.pcr, digest: e.digest, image: e.image, version: e.version, time: e.time });
}

function mismatch(message: string): EdgesealError {
  return new EdgesealError('EVENT_LOG_MISMATCH', message);
}

// Parses one log line; anything malformed is treated as tampering, not skipped.
export function parseEvent(line: string, lineNo: number): MeasurementEvent {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (err) {
    throw new EdgesealError('EVENT_LOG_MISMATCH', `event log line ${lineNo}: expected JSON, found ${JSON.stringify(line.slice(0, 80))}`, { cause: err });
  }
  const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  const { pcr, digest, image, version, time } = o;
  if (typeof pcr !== 'number' || !Number.isInteger(pcr) || pcr < 0 || pcr >= PCR_COUNT) throw mismatch(`event log line ${lineNo}: expected pcr 0..${PCR_COUNT - 1}, found ${JSON.stringify(pcr)}`);
  if (typeof digest !== 'string' || !HEX_SHA256.test(digest)) throw mismatch(`event log line ${lineNo}: expected a sha256 hex digest, found ${JSON.stringify(digest)}`);
  if (typeof image !== 'string' || typeof version !== 'string' || typeof time !== 'string') {
    throw mismatch(`event log line ${lineNo}: expected string image, version and time, found ${JSON.stringify({ image, version, time })}`);
  }
  return { pcr, digest, image, version, time };
}

// TPM2_PCR_Extend on a sha256 bank: PCR_new = sha256(PCR_old ‖ digest).
export function extendPcr(old: Uint8Array, digest: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(old).update(digest).digest());
}

// Splits log text into lines, dropping only the empty remainder after the final newline.
export function logLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

// Replays the events of one PCR from its value when this boot's log began (`base`: 32 zero bytes for
// a PCR nothing extended before us; the firmware's final value for a firmware PCR such as 6) and
// compares with the PCR read from the TPM: a forged digest, a missing line or a reordered line all
// change the result.
export function replayEventLog(lines: readonly string[], pcrValue: Uint8Array, pcr = DEFAULT_MEASUREMENT_PCR, base: Uint8Array = new Uint8Array(32)): MeasurementEvent[] {
  const events = lines.map((line, i) => parseEvent(line, i + 1));
  let value: Uint8Array = base;
  const mine = events.filter((e) => e.pcr === pcr);
  for (const e of mine) value = extendPcr(value, Buffer.from(e.digest, 'hex'));
  if (Buffer.compare(value, pcrValue) !== 0) {
    throw mismatch(
      `event log replay of PCR ${pcr} over ${mine.length} events: expected the TPM's value ${Buffer.from(pcrValue).toString('hex')}, found ${Buffer.from(value).toString('hex')}`,
    );
  }
  return events;
}
