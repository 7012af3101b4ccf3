import type { ErrorCode } from '../../core/errors.js';
import type { Enrollment } from '../enrollment.js';

// The storage port of the fleet side. Two adapters (SQLite via node:sqlite, PostgreSQL via pg) pass
// one contract suite (test/fleet/store-contract.ts). Times are ISO 8601 strings at this boundary.

export interface DeviceKey extends Enrollment {
  enrolledAt: string;
  retiredAt?: string; // set when a re-provisioned device enrolled a newer key
}

export type DeviceStatus = 'active' | 'decommissioned';

export interface DeviceRecord {
  fleet: string;
  deviceId: string;
  hardwareId: string;
  status: DeviceStatus;
  keys: DeviceKey[]; // oldest first
}

export type EnrollOutcome = 'enrolled' | 'unchanged' | 'rekeyed' | 'reactivated';

// A verified event: the row key is (fleet, deviceId, keyId, seq); digest is sha256 of the signed bytes.
export interface StoredEvent {
  fleet: string;
  deviceId: string;
  keyId: string;
  seq: number;
  deviceTime: string;
  receivedAt: string;
  type: string;
  verdict: string;
  code?: string;
  digest: string;
  raw: string; // the envelope as received, for export and offline re-verification
}

// An event that did not verify; stored apart, never mixed with verified events.
export interface RejectedEvent {
  receivedAt: string;
  reason: ErrorCode;
  message: string;
  fleet?: string;
  deviceId?: string;
  keyId?: string;
  seq?: number;
  raw: string;
}

export interface StoredRejected extends RejectedEvent {
  id: number;
}

// Same key and seq already stored with different signed bytes: a device that reuses a sequence number
// for other content (cloned key, rolled-back counter) — raised as an alarm, the first version stays.
export interface SeqConflict {
  fleet: string;
  deviceId: string;
  keyId: string;
  seq: number;
  storedDigest: string;
  newDigest: string;
  receivedAt: string;
}

export interface InsertResult {
  inserted: number;
  duplicates: number;
  conflicts: SeqConflict[];
}

export interface EventFilter {
  fleet?: string;
  deviceId?: string;
  since?: string; // receivedAt ≥ since
  until?: string; // receivedAt < until
}

export interface RejectedFilter extends EventFilter {
  reason?: ErrorCode;
  afterId?: number; // paging: ids greater than this
}

// Retention bound: events (and rejected events) older than maxAgeSeconds, then the oldest beyond maxEvents.
export interface RetentionBound {
  maxAgeSeconds?: number;
  maxEvents?: number;
}

export interface FleetStore {
  readonly kind: 'sqlite' | 'postgres';
  enroll(e: Enrollment, now: Date): Promise<EnrollOutcome>;
  decommission(fleet: string, deviceId: string, now: Date): Promise<boolean>;
  device(fleet: string, deviceId: string): Promise<DeviceRecord | undefined>;
  devices(): Promise<DeviceRecord[]>;
  insertEvents(rows: readonly StoredEvent[]): Promise<InsertResult>;
  insertRejected(rows: readonly RejectedEvent[]): Promise<void>;
  rejected(filter: RejectedFilter, limit: number): Promise<StoredRejected[]>; // ordered by id
  deleteRejected(ids: readonly number[]): Promise<void>;
  rejectedCounts(): Promise<Partial<Record<ErrorCode, number>>>;
  conflicts(): Promise<SeqConflict[]>;
  events(filter: EventFilter, limit: number): Promise<StoredEvent[]>; // ordered by fleet, device, key, seq
  countEvents(): Promise<number>;
  // The newest `limit` ranges of stored seqs of one device key, ascending (for the collector's ack mark).
  storedRanges(fleet: string, deviceId: string, keyId: string, limit: number): Promise<[number, number][]>;
  applyRetention(bound: RetentionBound, now: Date): Promise<{ events: number; rejected: number }>;
  close(): Promise<void>;
}
