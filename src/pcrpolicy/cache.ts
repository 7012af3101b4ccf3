import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { EdgesealError } from '../core/errors.js';
import type { CacheFs } from '../tuf/cache/cache-fs.js';
import { readCapped } from '../tuf/metadata-files.js';
import type { TrustedMetadata } from '../tuf/offline/types.js';
import type { DeviceUpdater } from '../tuf/updater.js';
import { MAX_PCR_POLICY_BYTES, namedPcrPolicies, PCR_POLICY_DIR, type NamedPcrPolicies, type NamedPcrPolicy } from './targets.js';

// The signed PCR policies of a metadata set are part of it (ARCHITECTURE "Local state"): the bytes the
// set's metadata names, at <generation>/pcr-policies/<file>, promoted or dropped with the whole set.
// The agent reads them at start (the authority's signature, then the TPM, decide whether one counts).

const digest = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const matches = (b: Uint8Array | undefined, p: NamedPcrPolicy): boolean => b !== undefined && b.length === p.length && digest(b) === p.sha256;

export interface PcrPolicyFetch {
  readonly fs: CacheFs;
  readonly genDir: string; // the new generation being built
  readonly promotedDir: string | undefined; // the promoted generation: unchanged policies are copied from it
  readonly updater: DeviceUpdater;
  readonly downloadDir: string; // scratch space for tuf-js downloads
}

// Puts every policy the new metadata names into the new generation: kept from the promoted set when
// the same bytes are named, else fetched through tuf-js (which checks the signed length and hashes)
// and checked again here. A policy that cannot be fetched stops the promotion, like a missing image role.
export async function cachePcrPolicies(f: PcrPolicyFetch, trusted: TrustedMetadata, now: Date): Promise<NamedPcrPolicies> {
  const named = namedPcrPolicies(trusted, now);
  if (named.policies.length === 0) return named;
  await f.fs.mkdir(join(f.genDir, PCR_POLICY_DIR));
  for (const p of named.policies) {
    const held = f.promotedDir ? await readCapped(join(f.promotedDir, PCR_POLICY_DIR, p.file), MAX_PCR_POLICY_BYTES).catch(() => undefined) : undefined;
    const bytes = held && matches(held, p) ? held : await download(f, p);
    await f.fs.writeFile(join(f.genDir, PCR_POLICY_DIR, p.file), bytes);
  }
  return named;
}

async function download(f: PcrPolicyFetch, p: NamedPcrPolicy): Promise<Uint8Array> {
  const { path } = await f.updater.download(p.name, f.downloadDir);
  try {
    const bytes = await readCapped(path, MAX_PCR_POLICY_BYTES);
    if (!matches(bytes, p)) throw new EdgesealError('DIGEST_MISMATCH', `${p.name}: expected ${p.length} bytes with sha256 ${p.sha256}, found ${bytes.length} bytes with sha256 ${digest(bytes)}`);
    return bytes;
  } finally {
    await rm(path, { force: true });
  }
}
