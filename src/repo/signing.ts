import { canonicalize } from '../core/canonical-json.js';
import { Metadata, MetadataKind } from '@tufjs/models';
import type { Root, Snapshot, Targets, Timestamp } from '@tufjs/models';
import { EdgesealError } from '../core/errors.js';
import type { SigningKey } from '../crypto/ed25519.js';
import { fileSigner, isSigner, signChecked, type Signer } from '../crypto/signer.js';
import type { AnySigned, Envelope, RoleJson, RootSigned, TargetsSigned } from './tuf-json.js';

// The bytes every signature covers: the canonical JSON of `signed` (spec §4.2).
export function canonicalBytes(signed: AnySigned): Uint8Array {
  return Buffer.from(canonicalize(signed));
}

// Signs `signed` with each key once, in keyid order so output is deterministic; each signature is
// checked against its public key before it is kept.
export function signEnvelope<S extends AnySigned>(signed: S, keys: readonly (SigningKey | Signer)[]): Envelope<S> {
  const bytes = canonicalBytes(signed);
  const signers = keys.map((k) => (isSigner(k) ? k : fileSigner(k)));
  const unique = [...new Map(signers.map((k) => [k.keyid, k])).values()].sort((a, b) => a.keyid.localeCompare(b.keyid));
  return { signed, signatures: unique.map((k) => ({ keyid: k.keyid, sig: Buffer.from(signChecked(k, bytes)).toString('hex') })) };
}

// The bytes a published metadata file holds (pretty JSON; signatures cover only canonical `signed`).
export function encodeEnvelope(env: Envelope): Uint8Array {
  return Buffer.from(`${JSON.stringify(env, null, 2)}\n`);
}

type AnyMetadata = Metadata<Root> | Metadata<Targets> | Metadata<Snapshot> | Metadata<Timestamp>;
type MetadataJson = Parameters<typeof Metadata.fromJSON>[1];

function parseAs(env: Envelope, json: MetadataJson): AnyMetadata {
  switch (env.signed._type) {
    case 'root':
      return Metadata.fromJSON(MetadataKind.Root, json);
    case 'targets':
      return Metadata.fromJSON(MetadataKind.Targets, json);
    case 'snapshot':
      return Metadata.fromJSON(MetadataKind.Snapshot, json);
    case 'timestamp':
      return Metadata.fromJSON(MetadataKind.Timestamp, json);
  }
}

// Parses an envelope with @tufjs/models (the same model the device verifies with).
export function toMetadata(env: Envelope): AnyMetadata {
  try {
    return parseAs(env, JSON.parse(JSON.stringify(env)) as MetadataJson);
  } catch (err) {
    throw new EdgesealError('MALFORMED_METADATA', `${env.signed._type} v${env.signed.version}: not valid TUF metadata: ${(err as Error).message}`, { cause: err });
  }
}

// Private keys from the keyring that the role lists, or SIGNATURE_THRESHOLD naming what is missing.
export function signersFor(roleName: string, role: RoleJson, keyring: ReadonlyMap<string, Signer>): Signer[] {
  const have = role.keyids.flatMap((id) => {
    const k = keyring.get(id);
    return k ? [k] : [];
  });
  if (have.length < role.threshold) {
    const missing = role.keyids.filter((id) => !keyring.has(id)).map((id) => id.slice(0, 12));
    throw new EdgesealError(
      'SIGNATURE_THRESHOLD',
      `${roleName}: expected private keys for ${role.threshold} of its ${role.keyids.length} keys, found ${have.length} (missing ${missing.join(', ')})`,
    );
  }
  return have;
}

// Re-checks a freshly signed role the way a client will (Metadata.verifyDelegate: each key counted once).
export function assertDelegateVerifies(delegator: Envelope<RootSigned | TargetsSigned>, roleName: string, delegated: Envelope): void {
  try {
    toMetadata(delegator).verifyDelegate(roleName, toMetadata(delegated));
  } catch (err) {
    throw new EdgesealError('SIGNATURE_THRESHOLD', `${roleName} v${delegated.signed.version} does not verify against its delegator: ${(err as Error).message}`, { cause: err });
  }
}

// Signs a new version of a role with the keyring's keys for it, then re-checks it as a client would.
export function signRole<S extends AnySigned>(
  roleName: string,
  signed: S,
  entry: RoleJson,
  keyring: ReadonlyMap<string, Signer>,
  delegator: Envelope<RootSigned | TargetsSigned>,
): Envelope<S> {
  const env = signEnvelope(signed, signersFor(roleName, entry, keyring));
  assertDelegateVerifies(delegator, roleName, env);
  return env;
}

// Spec 5.3.4/5.3.5: a new root must verify with the previous root's threshold and with its own.
export function signRoot(previous: Envelope<RootSigned> | undefined, signed: RootSigned, keyring: ReadonlyMap<string, Signer>): Envelope<RootSigned> {
  const oldKeys = previous ? signersFor('root (previous version)', previous.signed.roles.root, keyring) : [];
  const env = signEnvelope(signed, [...signersFor('root', signed.roles.root, keyring), ...oldKeys]);
  if (previous) assertDelegateVerifies(previous, 'root', env);
  assertDelegateVerifies(env, 'root', env);
  return env;
}
