import type { TufKey } from '../crypto/tuf-key.js';

// The TUF 1.0 metadata JSON shapes the publisher writes (spec §4), as plain data it edits and signs.

export const TOP_ROLES = ['root', 'targets', 'snapshot', 'timestamp'] as const;
export type TopRole = (typeof TOP_ROLES)[number];

export const SPEC_VERSION = '1.0.31';

// ed25519 or ecdsa-sha2-nistp256 (src/crypto/tuf-key.ts).
export type KeyJson = TufKey;

export interface RoleJson {
  keyids: string[];
  threshold: number;
}

export interface DelegatedRoleJson extends RoleJson {
  name: string;
  terminating: boolean;
  paths: string[];
}

export interface TargetJson {
  length: number;
  hashes: { sha256: string };
  custom?: Record<string, unknown>;
}

interface Common {
  spec_version: string;
  version: number;
  expires: string;
}

export interface RootSigned extends Common {
  _type: 'root';
  consistent_snapshot: true;
  keys: Record<string, KeyJson>;
  roles: Record<TopRole, RoleJson>;
}

export interface TargetsSigned extends Common {
  _type: 'targets';
  targets: Record<string, TargetJson>;
  delegations?: { keys: Record<string, KeyJson>; roles: DelegatedRoleJson[] };
}

export interface MetaFileJson {
  version: number;
  length?: number;
  hashes?: { sha256: string };
}

export interface SnapshotSigned extends Common {
  _type: 'snapshot';
  meta: Record<string, MetaFileJson>;
}

export interface TimestampSigned extends Common {
  _type: 'timestamp';
  meta: { 'snapshot.json': MetaFileJson };
}

export type AnySigned = RootSigned | TargetsSigned | SnapshotSigned | TimestampSigned;

export interface SignatureJson {
  keyid: string;
  sig: string;
}

export interface Envelope<S extends AnySigned = AnySigned> {
  signed: S;
  signatures: SignatureJson[];
}

// TUF wants whole seconds in UTC: YYYY-MM-DDTHH:MM:SSZ.
export function formatExpires(at: Date): string {
  return `${at.toISOString().slice(0, 19)}Z`;
}

export function addSeconds(now: Date, seconds: number): Date {
  return new Date(now.getTime() + seconds * 1000);
}
