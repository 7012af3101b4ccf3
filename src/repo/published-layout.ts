import { EdgesealError } from '../core/errors.js';
import type { Repository } from './repository.js';
import { encodeEnvelope } from './signing.js';
import { hashPrefixedPath } from './target-path.js';

// What a published repository holds (contract: consistent_snapshot layout), as bytes and paths
// relative to the output directory. Pure: publish-dir writes it.

export interface PublishedFile {
  readonly path: string; // e.g. metadata/3.targets.json
  readonly bytes: Uint8Array;
}

export interface PublishedTarget {
  readonly name: string;
  readonly path: string; // targets/<dirs>/<sha256>.<basename>
  readonly length: number;
  readonly sha256: string;
}

export interface PublishedRepo {
  readonly metadata: readonly PublishedFile[];
  readonly targets: readonly PublishedTarget[];
}

export function publishedLayout(repo: Repository): PublishedRepo {
  const pending = repo.pending();
  if (pending.length > 0) throw new EdgesealError('USAGE', `expected every role signed before publishing, found unsigned changes in ${pending.join(', ')} (run 'edgeseal repo sign')`);
  const metadata: PublishedFile[] = repo.rootHistory().map((env) => ({ path: `metadata/${env.signed.version}.root.json`, bytes: encodeEnvelope(env) }));
  for (const role of repo.targetRoles()) {
    const env = repo.envelope(role);
    metadata.push({ path: `metadata/${env.signed.version}.${role}.json`, bytes: encodeEnvelope(env) });
  }
  const snapshot = repo.envelope('snapshot');
  metadata.push({ path: `metadata/${snapshot.signed.version}.snapshot.json`, bytes: encodeEnvelope(snapshot) });
  // Spec 5.2: timestamp.json is the one file fetched without a version prefix.
  metadata.push({ path: 'metadata/timestamp.json', bytes: encodeEnvelope(repo.envelope('timestamp')) });
  const targets = new Map<string, PublishedTarget>();
  for (const role of repo.targetRoles()) {
    const env = repo.envelope(role);
    if (env.signed._type !== 'targets') continue;
    for (const [name, t] of Object.entries(env.signed.targets)) {
      const path = hashPrefixedPath(name, t.hashes.sha256);
      targets.set(path, { name, path, length: t.length, sha256: t.hashes.sha256 });
    }
  }
  return { metadata, targets: [...targets.values()] };
}
