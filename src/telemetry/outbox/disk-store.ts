import { mkdir, readdir, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { EdgesealError } from '../../core/errors.js';
import { writeFileAtomic } from '../../store/atomic-write.js';
import type { Priority } from './drop-policy.js';
import type { Channel, OutboxMeta, OutboxStore, StoredEntry } from './store.js';

// One file per entry in a spool directory: <dir>/spool/<seq:16>-<priority>-<channel>-<time>.msg
// holding the exact signed bytes to publish, plus <dir>/meta.json (sequence counter, drop counts).
// Why not segment files: each entry is written with temp+fsync+rename+dir-fsync, so a crash leaves
// the whole entry or none (no torn tails to repair), and PUBACK removal is one unlink, left
// un-fsynced on purpose (see OutboxStore), with no compaction that could lose neighbours. The cost,
// one small file per queued event, is bounded by the outbox limits.
const NAME = /^(\d{16})-([012])-(event|metrics)-(\d+)\.msg$/;

function fileName(e: StoredEntry): string {
  return `${String(e.seq).padStart(16, '0')}-${e.priority}-${e.channel}-${e.time}.msg`;
}

function storageError(what: string, err: unknown): EdgesealError {
  return new EdgesealError('STORAGE_ERROR', `outbox: could not ${what}: ${(err as Error).message}`, { cause: err });
}

export class DiskOutboxStore implements OutboxStore {
  private readonly spool: string;
  private readonly names = new Map<number, string>();

  constructor(private readonly dir: string) {
    this.spool = join(dir, 'spool');
  }

  async load(): Promise<{ entries: StoredEntry[]; meta: OutboxMeta | undefined }> {
    try {
      await mkdir(this.spool, { recursive: true, mode: 0o700 });
      const entries: StoredEntry[] = [];
      for (const name of (await readdir(this.spool)).sort()) {
        const m = NAME.exec(name);
        // Leftover temp files are writes a crash interrupted before rename: never acknowledged, so drop them.
        if (!m) {
          if (name.endsWith('.tmp')) await unlink(join(this.spool, name));
          continue;
        }
        const bytes = await readFile(join(this.spool, name));
        const entry = { seq: Number(m[1]), priority: Number(m[2]) as Priority, channel: m[3] as Channel, time: Number(m[4]), bytes };
        this.names.set(entry.seq, name);
        entries.push(entry);
      }
      return { entries, meta: await this.readMeta() };
    } catch (err) {
      throw err instanceof EdgesealError ? err : storageError(`load ${this.spool}`, err);
    }
  }

  private async readMeta(): Promise<OutboxMeta | undefined> {
    let text: string;
    try {
      text = await readFile(join(this.dir, 'meta.json'), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const meta = JSON.parse(text) as OutboxMeta | null;
    if (typeof meta !== 'object' || meta === null || !Number.isSafeInteger(meta.nextSeq) || meta.nextSeq < 1) throw new EdgesealError('STORAGE_ERROR', `outbox meta.json: expected nextSeq ≥ 1, found ${text.slice(0, 80)}`);
    return meta;
  }

  async put(entry: StoredEntry): Promise<void> {
    const name = fileName(entry);
    await writeFileAtomic(join(this.spool, name), entry.bytes, 0o600);
    this.names.set(entry.seq, name);
  }

  async delete(seqs: readonly number[]): Promise<void> {
    try {
      for (const seq of seqs) {
        const name = this.names.get(seq);
        if (name === undefined) continue;
        await unlink(join(this.spool, name)).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'ENOENT') throw err;
        });
        this.names.delete(seq);
      }
    } catch (err) {
      throw storageError(`remove entries ${seqs.join(',')}`, err);
    }
  }

  async saveMeta(meta: OutboxMeta): Promise<void> {
    await writeFileAtomic(join(this.dir, 'meta.json'), JSON.stringify(meta), 0o600);
  }
}

// What waits in an outbox, read without its lock and without touching it (for `edgeseal status`).
export async function spoolBacklog(dir: string): Promise<{ entries: number; bytes: number }> {
  const spool = join(dir, 'spool');
  let names: string[];
  try {
    names = (await readdir(spool)).filter((n) => NAME.test(n));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { entries: 0, bytes: 0 };
    throw storageError(`list ${spool}`, err);
  }
  // an entry the publisher removes meanwhile simply no longer counts
  const sizes = await Promise.all(names.map((n) => stat(join(spool, n)).then((st) => st.size, () => 0)));
  return { entries: names.length, bytes: sizes.reduce((a, b) => a + b, 0) };
}
