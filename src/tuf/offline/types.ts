import type { Metadata, Root, Snapshot, Targets, Timestamp } from './model.js';
import type { ErrorCode } from '../../core/errors.js';
import type { TargetCustom } from '../../core/target-meta.js';

// The raw bytes the offline verifier trusts nothing about until it has checked them.
export interface MetadataFiles {
  readonly initialRoot: Uint8Array; // pinned (its digest is anchored in the TPM)
  readonly rootChain: readonly Uint8Array[]; // 2.root.json … N.root.json, in order
  readonly timestamp: Uint8Array;
  readonly snapshot: Uint8Array;
  readonly targets: Uint8Array;
  readonly delegated: Readonly<Record<string, Uint8Array>>;
}

// Boot must not brick on expired metadata (ARCHITECTURE P5): expiry is a policy, not a hidden clock.
export type ExpiryPolicy = 'enforce' | 'ignore';

export interface VersionFloors {
  readonly rootVersion?: number;
  readonly timestampVersion?: number;
  readonly snapshotVersion?: number;
  readonly targetsVersion?: number;
}

export interface LoadOptions {
  readonly now: Date;
  readonly expiry: ExpiryPolicy;
  readonly floors?: VersionFloors;
  // Verify only the delegated roles a lookup of this target walks (a one-shot verify); the result then
  // answers lookups of this target only, not listTargets.
  readonly target?: string;
}

export interface TrustedRole {
  readonly md: Metadata<Targets>;
  readonly keyids: readonly string[]; // keys whose signatures counted toward the threshold
}

export interface TrustedMetadata {
  readonly root: Metadata<Root>;
  readonly timestamp: Metadata<Timestamp>;
  readonly snapshot: Metadata<Snapshot>;
  readonly roles: ReadonlyMap<string, TrustedRole>; // 'targets' and every verified delegated role (on the walk, with LoadOptions.target)
  readonly rejected: ReadonlyMap<string, { code: ErrorCode; message: string }>; // delegated roles that failed
  readonly expiry: ExpiryPolicy;
  readonly checkedAt: Date; // the `now` it was loaded at; the default for later lookups
}

// What a target lookup needs: the trusted root and targets roles. Live metadata has a timestamp and a
// snapshot too; an install record (src/tuf/offline/install-record.ts) keeps only this.
export type TargetsView = Pick<TrustedMetadata, 'root' | 'roles' | 'rejected' | 'expiry' | 'checkedAt'>;

export interface ListedTarget {
  readonly name: string;
  readonly length: number;
  readonly hashes: Readonly<Record<string, string>>;
  readonly custom: TargetCustom;
  readonly signedBy: { readonly role: string; readonly keyids: readonly string[] };
}

// A target the metadata lists but no device may use (e.g. invalid custom fields), kept for reporting.
export interface RejectedTarget {
  readonly name: string;
  readonly code: ErrorCode;
  readonly message: string;
}

export type Verdict =
  | { readonly ok: true; readonly target: ListedTarget; readonly keyids: readonly string[]; readonly rootVersion: number }
  | { readonly ok: false; readonly code: ErrorCode; readonly message: string };
