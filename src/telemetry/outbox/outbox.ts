import { EdgesealError } from '../../core/errors.js';
import { mergeRanges, rangesOf, subtractRanges, type SeqRange } from '../seq-ranges.js';
import { DROP_CLASSES, classOf, planAdmission, type Admission, type DropClass, type Limits, type Priority } from './drop-policy.js';
import type { Channel, OutboxMeta, OutboxStore, StoredEntry } from './store.js';

export const DEFAULT_LIMITS: Limits = { maxEntries: 10_000, maxBytes: 16 * 1024 * 1024 };
const MAX_REPORT_RANGES = 256;
// meta.json is ours but on disk: a damaged range is left out rather than put in a signed record
const isRange = (r: unknown): r is SeqRange => Array.isArray(r) && r.length === 2 && r.every((n) => Number.isSafeInteger(n) && (n as number) >= 1) && (r[0] as number) <= (r[1] as number); // per outbox-drop event (the schema's bound); the rest go in the next one

export interface OutboxStats {
  depth: number;
  bytes: number;
  oldestAgeMs: number; // 0 when empty
  dropped: Record<DropClass, number>;
  lastDroppedSeq: number | undefined;
  storageErrors: number;
}

export interface AppendResult {
  seq: number;
  admitted: boolean;
  evicted: number[];
}

export interface NewEntry {
  priority: Priority;
  channel: Channel;
  bytes: Uint8Array;
}

// Durable FIFO of signed messages keyed by sequence number. Hands out the per-device sequence
// numbers (persisted, never reused), applies the drop policy at the bound, and forgets an entry only
// when the publisher reports its PUBACK. All storage changes run one at a time, in call order.
export class Outbox {
  // Insertion order is seq order (appends only grow seq), so iteration never needs a sort.
  private readonly entries = new Map<number, StoredEntry>();
  private bytes = 0;
  private meta: OutboxMeta = { nextSeq: 1, dropped: { heartbeat: 0, routine: 0, security: 0 } };
  private persistedNextSeq = 1;
  private lastDroppedSeq: number | undefined;
  private storageErrors = 0;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly listeners = new Set<() => void>();

  private constructor(
    private readonly store: OutboxStore,
    private readonly limits: Limits,
  ) {}

  static async open(store: OutboxStore, limits: Limits = DEFAULT_LIMITS): Promise<Outbox> {
    const box = new Outbox(store, limits);
    const { entries, meta } = await store.load();
    for (const e of [...entries].sort((a, b) => a.seq - b.seq)) box.track(e);
    const maxSeq = entries.reduce((m, e) => Math.max(m, e.seq), 0);
    if (meta) {
      for (const c of DROP_CLASSES) box.meta.dropped[c] = meta.dropped[c] ?? 0;
      if (meta.unreported?.length) box.meta.unreported = mergeRanges(meta.unreported.filter(isRange));
      // a report no longer queued was delivered; only queued ones can still be evicted
      box.meta.reportsQueued = Object.fromEntries(Object.entries(meta.reportsQueued ?? {}).filter(([seq]) => box.entries.has(Number(seq))).map(([seq, r]) => [seq, r.filter(isRange)]));
      box.persistedNextSeq = meta.nextSeq;
    }
    // Entries still on disk prove their seq was handed out even if meta.json lags behind.
    box.meta.nextSeq = Math.max(meta?.nextSeq ?? 1, maxSeq + 1);
    return box;
  }

  // Reserves the next sequence number, lets `build` produce the signed bytes for it, and stores them.
  append(build: (seq: number) => NewEntry, now: number): Promise<AppendResult> {
    return this.serial(() => this.admit(build, now));
  }

  // Seq ranges dropped by policy and not yet recorded by an outbox-drop event.
  unreportedDrops(): SeqRange[] {
    return (this.meta.unreported ?? []).map(([a, b]): SeqRange => [a, b]);
  }

  // Appends the record of unreported drops (`build` signs it); once that entry is stored its ranges
  // count as reported, and go back to unreported if the entry is evicted in turn. A record never evicts
  // a security verdict: with only those queued it waits (no seq taken) for room.
  reportDrops(build: (seq: number, ranges: SeqRange[]) => NewEntry, now: number): Promise<AppendResult | undefined> {
    return this.serial(async () => {
      const ranges = this.unreportedDrops().slice(0, MAX_REPORT_RANGES);
      if (ranges.length === 0) return undefined;
      return this.admit((seq) => build(seq, ranges), now, ranges);
    });
  }

  private async admit(build: (seq: number) => NewEntry, now: number): Promise<AppendResult>;
  private async admit(build: (seq: number) => NewEntry, now: number, reports: SeqRange[]): Promise<AppendResult | undefined>;
  private async admit(build: (seq: number) => NewEntry, now: number, reports?: SeqRange[]): Promise<AppendResult | undefined> {
    const seq = this.meta.nextSeq++;
    const entry = { seq, time: now, ...build(seq) };
    const plan = this.admission(entry);
    if (reports && (!plan.admit || plan.evict.some((s) => (this.entries.get(s)?.priority ?? 0) >= 2))) {
      this.meta.nextSeq -= 1; // nothing was stored or published under this seq
      return undefined;
    }
    const victims = plan.admit ? plan.evict.map((s) => this.entries.get(s)).filter((e) => e !== undefined) : [entry];
    for (const v of victims) this.meta.dropped[classOf(v.priority)] += 1;
    if (victims.length) {
      this.lastDroppedSeq = Math.max(...victims.map((v) => v.seq));
      const queued = this.meta.reportsQueued ?? {};
      const unrecorded = victims.flatMap((v) => queued[v.seq] ?? []);
      for (const v of victims) delete queued[v.seq];
      this.meta.unreported = mergeRanges([...(this.meta.unreported ?? []), ...unrecorded, ...rangesOf(victims.map((v) => v.seq))]);
      await this.saveMeta();
    }
    if (plan.admit) {
      await this.guard(this.store.delete(plan.evict));
      for (const s of plan.evict) this.untrack(s);
      await this.guard(this.store.put(entry));
      this.track(entry);
      // only after the record is durable: a crash before this reports the ranges again (the fleet unions them)
      if (reports) {
        this.meta.unreported = subtractRanges(this.meta.unreported ?? [], reports);
        this.meta.reportsQueued = { ...this.meta.reportsQueued, [seq]: reports };
        await this.saveMeta();
      }
      for (const l of this.listeners) l();
    }
    return { seq, admitted: plan.admit, evicted: plan.admit ? plan.evict : [] };
  }

  // Called on PUBACK: the broker has the message, so the device may forget it.
  remove(seq: number): Promise<void> {
    return this.serial(async () => {
      if (!this.entries.has(seq)) return;
      // Removing the newest entry would let a restart reuse its seq unless the counter is on disk first.
      if (this.persistedNextSeq < this.meta.nextSeq) await this.saveMeta();
      await this.guard(this.store.delete([seq]));
      this.untrack(seq);
      if (this.meta.reportsQueued) delete this.meta.reportsQueued[seq]; // delivered: persisted with the next meta write
    });
  }

  // Fast path under the bound; the full drop-policy plan only when the outbox is full.
  private admission(entry: StoredEntry): Admission {
    const size = entry.bytes.length;
    if (this.entries.size + 1 <= this.limits.maxEntries && this.bytes + size <= this.limits.maxBytes) return { admit: true, evict: [] };
    const queued = [...this.entries.values()].map((e) => ({ seq: e.seq, priority: e.priority, size: e.bytes.length }));
    return planAdmission(queued, { priority: entry.priority, size }, this.limits);
  }

  private track(e: StoredEntry): void {
    this.entries.set(e.seq, e);
    this.bytes += e.bytes.length;
  }

  private untrack(seq: number): void {
    const e = this.entries.get(seq);
    if (!e) return;
    this.entries.delete(seq);
    this.bytes -= e.bytes.length;
  }

  // Entries in sequence order with seq > after, at most `limit` of them.
  pending(after = 0, limit = Infinity): StoredEntry[] {
    const out: StoredEntry[] = [];
    for (const e of this.entries.values()) {
      if (e.seq <= after) continue;
      if (out.length >= limit) break;
      out.push(e);
    }
    return out;
  }

  has(seq: number): boolean {
    return this.entries.has(seq);
  }

  // Registers a wake-up callback for newly stored entries; returns the unsubscribe function.
  onAppend(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stats(now: number): OutboxStats {
    const oldest = this.entries.values().next().value?.time ?? now;
    return {
      depth: this.entries.size,
      bytes: this.bytes,
      oldestAgeMs: Math.max(0, now - oldest),
      dropped: { ...this.meta.dropped },
      lastDroppedSeq: this.lastDroppedSeq,
      storageErrors: this.storageErrors,
    };
  }

  // Resolves after every change requested so far is durable.
  flush(): Promise<void> {
    return this.serial(() => Promise.resolve());
  }

  private async saveMeta(): Promise<void> {
    const snapshot = structuredClone(this.meta);
    await this.guard(this.store.saveMeta(snapshot));
    this.persistedNextSeq = snapshot.nextSeq;
  }

  private async guard<T>(p: Promise<T>): Promise<T> {
    try {
      return await p;
    } catch (err) {
      this.storageErrors += 1;
      throw err instanceof EdgesealError ? err : new EdgesealError('STORAGE_ERROR', `outbox: ${(err as Error).message}`, { cause: err });
    }
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.chain.then(task, task);
    this.chain = run.catch(() => undefined);
    return run;
  }
}
