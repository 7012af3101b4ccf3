import { createHash } from 'node:crypto';
import { keyFromSeed, type SigningKey } from '../../src/crypto/ed25519.js';
import { publishedLayout, type PublishedRepo } from '../../src/repo/published-layout.js';
import { Repository } from '../../src/repo/repository.js';
import { encodeEnvelope, signEnvelope } from '../../src/repo/signing.js';
import type { AnySigned, Envelope, TopRole } from '../../src/repo/tuf-json.js';
import type { MetadataFiles } from '../../src/tuf/offline/types.js';

// A thin test wrapper around the publisher's Repository API (src/repo): deterministic keys, images
// as bytes, and the published metadata as the offline verifier's `files`.

export const T0 = new Date('2026-01-01T00:00:00Z');
export const after = (days: number, base = T0): Date => new Date(base.getTime() + days * 86400_000);

export function testKey(label: string): SigningKey {
  return keyFromSeed(createHash('sha256').update(`edgeseal-test/key/${label}`).digest());
}

export const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

export function imageOf(label: string, length = 4096): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0, off = 0; off < length; i++, off += 32) createHash('sha256').update(`${label}/${i}`).digest().copy(out, off, 0, Math.min(32, length - off));
  return out;
}

export function customFor(over: Record<string, unknown> = {}): Record<string, unknown> {
  return { hardwareIds: ['board-a'], version: '1.0.0', securityVersion: 1, kind: 'firmware', ...over };
}

export interface TestRepo {
  readonly repo: Repository;
  readonly keys: Record<TopRole, SigningKey[]>;
}

export function newRepo(opts: { thresholds?: Partial<Record<TopRole, number>>; keysPerRole?: number; now?: Date } = {}): TestRepo {
  const n = opts.keysPerRole ?? 1;
  const keys = Object.fromEntries(
    (['root', 'targets', 'snapshot', 'timestamp'] as const).map((r) => [r, Array.from({ length: n }, (_, i) => testKey(`${r}-${i}`))]),
  ) as Record<TopRole, SigningKey[]>;
  const repo = Repository.init({ keys, ...(opts.thresholds ? { thresholds: opts.thresholds } : {}) });
  repo.sign(opts.now ?? T0);
  return { repo, keys };
}

export function addImage(repo: Repository, name: string, bytes: Uint8Array, custom = customFor(), role?: string): void {
  repo.addTarget(name, { length: bytes.length, sha256: sha256Hex(bytes), custom }, role ? { role } : {});
}

// The published metadata as the verifier's input (initial root = 1.root.json, the rest as the chain).
export function filesOf(layout: PublishedRepo): MetadataFiles {
  const byName = new Map(layout.metadata.map((f) => [f.path.replace(/^metadata\//, ''), f.bytes]));
  const versioned = (role: string): Uint8Array => [...byName].find(([n]) => new RegExp(`^\\d+\\.${role}\\.json$`).test(n))![1];
  const roots = [...byName].filter(([n]) => /^\d+\.root\.json$/.test(n)).sort((a, b) => parseInt(a[0]) - parseInt(b[0])).map(([, b]) => b);
  const delegated: Record<string, Uint8Array> = {};
  for (const [n, b] of byName) {
    const m = /^\d+\.(.+)\.json$/.exec(n);
    if (m && !['root', 'targets', 'snapshot'].includes(m[1])) delegated[m[1]] = b;
  }
  return { initialRoot: roots[0], rootChain: roots.slice(1), timestamp: byName.get('timestamp.json')!, snapshot: versioned('snapshot'), targets: versioned('targets'), delegated };
}

export const publishedFiles = (repo: Repository): MetadataFiles => filesOf(publishedLayout(repo));

// Re-signs edited metadata bytes with the given keys (for attacks the publisher would never produce).
export function resign(bytes: Uint8Array, edit: (signed: AnySigned & Record<string, unknown>) => void, keys: readonly SigningKey[]): Uint8Array {
  const env = JSON.parse(Buffer.from(bytes).toString('utf8')) as Envelope;
  edit(env.signed as AnySigned & Record<string, unknown>);
  return encodeEnvelope(signEnvelope(env.signed, keys));
}

// Edits an envelope's JSON without re-signing (signature lists, unsigned fields).
export function editJson(bytes: Uint8Array, edit: (env: Record<string, unknown> & { signed: Record<string, unknown>; signatures: { keyid: string; sig: string }[] }) => void): Uint8Array {
  const env = JSON.parse(Buffer.from(bytes).toString('utf8')) as Parameters<typeof edit>[0];
  edit(env);
  return Buffer.from(JSON.stringify(env));
}
