import { Metadata as ModelsMetadata, MetadataKind, TargetFile, type Root, type Snapshot, type Targets, type Timestamp } from '@tufjs/models';
import { Signed as ModelsSigned } from '@tufjs/models/dist/base.js';
import type * as ours from '../../src/tuf/offline/model.js';

// @tufjs/models as the oracle of the offline model (src/tuf/offline/model.ts): its Metadata.fromJSON,
// and its objects as the plain data our parser gives, so that the two compare with deep equality.

type JSONObject = Parameters<typeof ModelsMetadata.fromJSON>[1];

export function modelsFromJSON(kind: string, json: unknown): ModelsMetadata<Root | Timestamp | Snapshot | Targets> {
  return ModelsMetadata.fromJSON(kind as MetadataKind.Root, json as JSONObject);
}

// Own enumerable data, recursively, without undefined members; a class's getters and tags as our model
// holds them: a TargetFile's path, length, hashes and custom, Signed without `type` (and without
// `_type`, which the models keep among the unrecognised fields).
export function plain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined || (value instanceof ModelsSigned && k === 'type')) continue;
    Object.defineProperty(out, k, { value: plain(v), enumerable: true, writable: true, configurable: true });
  }
  // a target entry: what our model keeps of it (the signature covers the rest as the file holds it)
  if (value instanceof TargetFile) return { path: value.path, length: value.length, hashes: plain(value.hashes), custom: plain(value.custom) };
  if (value instanceof ModelsSigned) delete (out.unrecognizedFields as Record<string, unknown>)._type;
  return out;
}

// @tufjs/models' Metadata.fromJSON of each kind, typed as the offline model: this compiles only while
// the models' objects are assignable to it (a structural subset), so metadata from tuf-js may flow
// wherever the offline types are taken.
export function modelsAsOffline(docs: { root: unknown; timestamp: unknown; snapshot: unknown; targets: unknown }): {
  root: ours.Metadata<ours.Root>;
  timestamp: ours.Metadata<ours.Timestamp>;
  snapshot: ours.Metadata<ours.Snapshot>;
  targets: ours.Metadata<ours.Targets>;
} {
  return {
    root: ModelsMetadata.fromJSON(MetadataKind.Root, docs.root as JSONObject),
    timestamp: ModelsMetadata.fromJSON(MetadataKind.Timestamp, docs.timestamp as JSONObject),
    snapshot: ModelsMetadata.fromJSON(MetadataKind.Snapshot, docs.snapshot as JSONObject),
    targets: ModelsMetadata.fromJSON(MetadataKind.Targets, docs.targets as JSONObject),
  };
}
