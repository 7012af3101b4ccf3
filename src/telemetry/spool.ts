import { randomBytes } from 'node:crypto';
import { readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { EdgesealError, isEdgesealError } from '../core/errors.js';
import { writeFileAtomic } from '../store/atomic-write.js';
import { EVENT_TYPES, VERDICTS, type EventInput } from './event.js';

// Where verdicts go when the state dir (and so the outbox) cannot be written: one file per event under
// <runDir>/spool (tmpfs, this boot only). They are unsigned reports, never a trust input: whoever next
// holds the outbox records them there (signed, sequenced), marked with the time they were spooled.

const FORMAT = 1;

export const spoolDir = (runDir: string): string => join(runDir, 'spool');

export async function spoolEvent(runDir: string, event: EventInput, now: Date): Promise<void> {
  const name = `${String(now.getTime()).padStart(15, '0')}-${process.pid}-${randomBytes(4).toString('hex')}.json`;
  await writeFileAtomic(join(spoolDir(runDir), name), `${JSON.stringify({ format: FORMAT, at: now.toISOString(), event })}\n`, 0o600);
}

function parseSpooled(text: string, file: string): { at: string; event: EventInput } {
  const o = JSON.parse(text) as { format?: unknown; at?: unknown; event?: Partial<EventInput> };
  const e = o.event;
  if (o.format !== FORMAT || typeof o.at !== 'string' || !e || !EVENT_TYPES.includes(e.type as never) || !VERDICTS.includes(e.verdict as never)) {
    throw new EdgesealError('EVENT_INVALID', `${file}: expected a spooled event (format ${FORMAT}, at, event.type, event.verdict), found ${text.slice(0, 120)}`);
  }
  return { at: o.at, event: e as EventInput };
}

export interface DrainResult {
  readonly recorded: number;
  readonly rejected: readonly string[]; // files that were not spooled events (removed, named here)
}

// Records every spooled event, oldest first, removing each file once `record` took it.
export async function drainSpool(runDir: string, record: (event: EventInput) => Promise<void>): Promise<DrainResult> {
  const dir = spoolDir(runDir);
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.json') && !n.startsWith('.')).sort();
  let recorded = 0;
  const rejected: string[] = [];
  for (const name of names) {
    const file = join(dir, name);
    let spooled: { at: string; event: EventInput };
    try {
      spooled = parseSpooled(await readFile(file, 'utf8'), file);
    } catch {
      rejected.push(file);
      await unlink(file).catch(() => undefined);
      continue;
    }
    const detail = `spooled ${spooled.at} (state dir not writable)${spooled.event.detail ? `: ${spooled.event.detail}` : ''}`;
    try {
      await record({ ...spooled.event, detail: detail.slice(0, 512) });
    } catch (err) {
      if (!isEdgesealError(err, 'EVENT_INVALID')) throw err; // e.g. the outbox is full or unwritable: keep it for later
      rejected.push(file);
      await unlink(file).catch(() => undefined);
      continue;
    }
    await unlink(file);
    recorded++;
  }
  return { recorded, rejected };
}
