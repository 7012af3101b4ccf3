import { keyLookupFrom } from './registry.js';
import type { FleetStore, InsertResult, RejectedEvent, StoredEvent } from './store/port.js';
import { classifyEnvelope, type Classified, type KeyLookup } from './verify-event.js';

export interface IncomingMessage {
  raw: string;
  receivedAt: Date;
  topic?: { fleet: string; deviceId: string };
}

export interface IngestResult extends InsertResult {
  rejected: number;
  verified: StoredEvent[]; // inserted or duplicate: the collector's ack marks cover these
}

// Stores verified and rejected events apart. Resolves only after both writes committed: the collector
// acknowledges to the broker after this.
export async function storeClassified(store: FleetStore, batch: readonly Classified[]): Promise<IngestResult> {
  const ok: StoredEvent[] = [];
  const bad: RejectedEvent[] = [];
  for (const c of batch) {
    if (c.ok) ok.push(c.row);
    else bad.push(c.rejected);
  }
  const stored = await store.insertEvents(ok);
  await store.insertRejected(bad);
  return { ...stored, rejected: bad.length, verified: ok };
}

// Verifies a batch against the registry, then stores it.
export async function ingestBatch(store: FleetStore, lookup: KeyLookup, batch: readonly IncomingMessage[]): Promise<IngestResult> {
  return storeClassified(store, batch.map((m) => classifyEnvelope(m.raw, m.receivedAt, lookup, m.topic)));
}

const REVERIFY_PAGE = 500;

// After a late enrolment: events rejected because their device or key was unknown are verified again
// against the current registry; those that now verify move to the events table (keeping their
// original receivedAt), the rest stay rejected.
export async function reverifyRejected(store: FleetStore, filter: { fleet?: string; deviceId?: string }): Promise<{ verified: number; stillRejected: number }> {
  const lookup = keyLookupFrom(await store.devices());
  const out = { verified: 0, stillRejected: 0 };
  let afterId = 0;
  for (;;) {
    const page = await store.rejected({ ...filter, reason: 'DEVICE_UNKNOWN', afterId }, REVERIFY_PAGE);
    if (page.length === 0) return out;
    const moved: StoredEvent[] = [];
    const movedIds: number[] = [];
    for (const r of page) {
      const c = classifyEnvelope(r.raw, new Date(r.receivedAt), lookup);
      if (!c.ok) {
        out.stillRejected += 1;
        continue;
      }
      moved.push(c.row);
      movedIds.push(r.id);
    }
    // Insert before delete: a crash in between leaves a copy in both tables, which the next run
    // resolves (the insert is idempotent), never an event in neither.
    await store.insertEvents(moved);
    await store.deleteRejected(movedIds);
    out.verified += moved.length;
    afterId = page[page.length - 1]?.id ?? afterId;
  }
}
