import type { SeqRange } from '../seq-ranges.js';
import type { DropClass, Priority } from './drop-policy.js';

// The outbox's storage port. `put` and `saveMeta` resolve only once durable, so a crash never loses an
// acknowledged entry or reuses a sequence number. `delete` need not be durable: an unlink lost in a
// crash only means the entry is sent again, which QoS 1 allows (consumers dedupe by seq).
export type Channel = 'event' | 'metrics';

export interface StoredEntry {
  seq: number;
  priority: Priority;
  channel: Channel;
  time: number; // ms since epoch when the entry was appended (for the oldest-age SLI)
  bytes: Uint8Array;
}

export interface OutboxMeta {
  nextSeq: number; // sequence numbers below this were handed out and must never be reused
  dropped: Record<DropClass, number>;
  unreported?: SeqRange[]; // seqs dropped by policy that no outbox-drop event has recorded yet
  reportsQueued?: Record<string, SeqRange[]>; // queued outbox-drop entries (by seq) and the ranges each records
}

export interface OutboxStore {
  load(): Promise<{ entries: StoredEntry[]; meta: OutboxMeta | undefined }>;
  put(entry: StoredEntry): Promise<void>;
  delete(seqs: readonly number[]): Promise<void>;
  saveMeta(meta: OutboxMeta): Promise<void>;
}

// Keeps everything in memory: for tests and for devices that opt out of disk persistence.
export class MemoryOutboxStore implements OutboxStore {
  private readonly entries = new Map<number, StoredEntry>();
  private meta: OutboxMeta | undefined;

  load(): Promise<{ entries: StoredEntry[]; meta: OutboxMeta | undefined }> {
    const entries = [...this.entries.values()].sort((a, b) => a.seq - b.seq).map((e) => ({ ...e }));
    return Promise.resolve({ entries, meta: this.meta && structuredClone(this.meta) });
  }

  put(entry: StoredEntry): Promise<void> {
    this.entries.set(entry.seq, { ...entry });
    return Promise.resolve();
  }

  delete(seqs: readonly number[]): Promise<void> {
    for (const s of seqs) this.entries.delete(s);
    return Promise.resolve();
  }

  saveMeta(meta: OutboxMeta): Promise<void> {
    this.meta = structuredClone(meta);
    return Promise.resolve();
  }
}
