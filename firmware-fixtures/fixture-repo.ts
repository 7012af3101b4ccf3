import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Ed25519Key } from '../src/crypto/ed25519.js';
import { writePublished } from '../src/repo/publish-dir.js';
import { publishedLayout } from '../src/repo/published-layout.js';
import { Repository } from '../src/repo/repository.js';
import { encodeEnvelope } from '../src/repo/signing.js';
import { hashPrefixedPath } from '../src/repo/target-path.js';
import type { Envelope } from '../src/repo/tuf-json.js';
import { fixtureKey, imageBytes, sha256Hex } from './deterministic.js';

export interface ImageSpec {
  readonly name: string; // target name
  readonly length: number;
  readonly hardwareIds: readonly string[];
  readonly kind: 'firmware' | 'os' | 'app';
  readonly version: string;
  readonly securityVersion: number;
  readonly role?: string;
}

// A fixture repository: a Repository plus the image bytes its targets point at.
export class FixtureRepo {
  readonly blobs = new Map<string, Uint8Array>();

  constructor(readonly repo: Repository) {}

  // Keys named "<prefix>-<role>" with threshold 1 each; `extra` adds more keys per role.
  static create(prefix: string, extra: Partial<Record<'root' | 'targets' | 'snapshot' | 'timestamp', Ed25519Key[]>> = {}, thresholds = {}): FixtureRepo {
    const k = (role: 'root' | 'targets' | 'snapshot' | 'timestamp'): Ed25519Key[] => [fixtureKey(`${prefix}-${role}`), ...(extra[role] ?? [])];
    return new FixtureRepo(Repository.init({ keys: { root: k('root'), targets: k('targets'), snapshot: k('snapshot'), timestamp: k('timestamp') }, thresholds }));
  }

  // Adds a target with deterministic bytes (label = target name + version) and returns its bytes.
  // `unchecked` writes the entry straight into the role, bypassing the delegated-paths check.
  addImage(spec: ImageSpec, opts: { unchecked?: boolean } = {}): Uint8Array {
    const bytes = imageBytes(`${spec.name}@${spec.version}`, spec.length);
    const sha256 = sha256Hex(bytes);
    this.blobs.set(sha256, bytes);
    const custom = { hardwareIds: [...spec.hardwareIds], version: spec.version, securityVersion: spec.securityVersion, kind: spec.kind };
    const role = spec.role ?? 'targets';
    if (opts.unchecked) {
      this.repo.editSigned(role, (t) => {
        if (t._type === 'targets') t.targets[spec.name] = { length: bytes.length, hashes: { sha256 }, custom };
      });
    } else {
      this.repo.addTarget(spec.name, { length: bytes.length, sha256, custom }, { role });
    }
    return bytes;
  }

  // Writes the signed repository to out/<rel>; returns the image path (relative to out/) of each target.
  async publish(outRoot: string, rel: string): Promise<Map<string, string>> {
    const layout = publishedLayout(this.repo);
    await writePublished(join(outRoot, rel), layout, (t) => this.blobs.get(t.sha256)!);
    return new Map(layout.targets.map((t) => [t.name, `${rel}/${t.path}`]));
  }
}

export function targetPath(rel: string, name: string, bytes: Uint8Array): string {
  return `${rel}/${hashPrefixedPath(name, sha256Hex(bytes))}`;
}

// Rewrites one published metadata file after signing: how the hostile variants are made.
export async function rewriteMetadata(file: string, fn: (env: Envelope) => void): Promise<void> {
  const env = JSON.parse(await readFile(file, 'utf8')) as Envelope;
  fn(env);
  await writeFile(file, encodeEnvelope(env));
}
