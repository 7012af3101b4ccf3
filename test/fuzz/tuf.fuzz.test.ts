import { expect } from 'chai';
import { canonicalize } from '@tufjs/canonical-json';
import { createHash, createPrivateKey, sign, type KeyObject } from 'node:crypto';
import type { SigningKey } from '../../src/crypto/ed25519.js';
import { encodeEnvelope } from '../../src/repo/signing.js';
import type { AnySigned, Envelope } from '../../src/repo/tuf-json.js';
import { delegationsToFetch } from '../../src/tuf/offline/delegations.js';
import { loadTrustedMetadata } from '../../src/tuf/offline/load-trusted.js';
import type { MetadataFiles } from '../../src/tuf/offline/types.js';
import { scanTargets, verifyImage } from '../../src/tuf/offline/verify-image.js';
import { addImage, after, customFor, imageOf, newRepo, publishedFiles, sha256Hex, T0, testKey } from '../helpers/tuf-repo.js';
import { fuzz, iterations } from './harness.js';
import { mutateBytes, mutateJson, PROTOTYPE_KEYS, type Rng } from './mutator.js';

// TUF documents mutated and re-signed with the repository's real keys (so the mutation gets past the
// signature check into the parsers and the trust walk), with the timestamp's snapshot entry re-pinned
// when the snapshot changed; sometimes the raw bytes are mutated instead, unsigned.

const now = after(0.5);
const FW = 'firmware/board-a/fw.bin';
const APP = 'apps/app.bin';
const fw = imageOf('fw', 1024);
const app = imageOf('app', 512);
const builder = testKey('builder');

function published(): { files: MetadataFiles; keys: Record<string, SigningKey[]> } {
  const { repo, keys } = newRepo();
  addImage(repo, FW, fw, customFor());
  repo.delegate({ name: 'builder', paths: ['apps/*'], keys: [builder], terminating: true });
  addImage(repo, APP, app, customFor({ kind: 'app' }), 'builder');
  repo.sign(T0);
  return { files: publishedFiles(repo), keys: { ...keys, builder: [builder] } };
}

// The same RFC 8032 signatures as src/repo/signing.ts, through node:crypto: tweetnacl's pure-JS signing
// would spend most of the CI budget.
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');
const nodeKeys = new Map<string, KeyObject>();
function signEnvelope(signed: AnySigned, keys: readonly SigningKey[]): Envelope {
  const bytes = Buffer.from(canonicalize(signed));
  const signatures = keys.map((k) => {
    let key = nodeKeys.get(k.keyid);
    if (!key) nodeKeys.set(k.keyid, (key = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, k.seed]), format: 'der', type: 'pkcs8' })));
    return { keyid: k.keyid, sig: sign(null, bytes, key).toString('hex') };
  });
  return { signed, signatures };
}

const parse = (bytes: Uint8Array): Envelope => JSON.parse(Buffer.from(bytes).toString('utf8')) as Envelope;

function resigned(rng: Rng, bytes: Uint8Array, keys: readonly SigningKey[]): Uint8Array {
  const env = parse(bytes);
  const signed = mutateJson(rng, env.signed) as AnySigned;
  try {
    return encodeEnvelope(signEnvelope(signed, keys));
  } catch {
    return Buffer.from(JSON.stringify({ ...env, signed })); // not canonicalizable (a float): left unsigned
  }
}

// The timestamp re-signed to name these snapshot bytes.
function repinSnapshot(files: MetadataFiles, keys: readonly SigningKey[]): Uint8Array {
  const ts = parse(files.timestamp) as Envelope & { signed: { meta: Record<string, { length: number; hashes: { sha256: string } }> } };
  ts.signed.meta['snapshot.json'] = { ...ts.signed.meta['snapshot.json'], length: files.snapshot.length, hashes: { sha256: createHash('sha256').update(files.snapshot).digest('hex') } };
  return encodeEnvelope(signEnvelope(ts.signed, keys));
}

type Role = 'root' | 'timestamp' | 'snapshot' | 'targets' | 'builder';

function mutate(rng: Rng, base: MetadataFiles, keys: Record<string, SigningKey[]>, role: Role): MetadataFiles {
  const current = { root: base.initialRoot, timestamp: base.timestamp, snapshot: base.snapshot, targets: base.targets, builder: base.delegated.builder }[role];
  const bytes = rng.chance(0.85) ? resigned(rng, current, keys[role]) : mutateBytes(rng, current);
  const files: MetadataFiles = {
    ...base,
    ...(role === 'root' ? { initialRoot: bytes } : {}),
    ...(role === 'timestamp' ? { timestamp: bytes } : {}),
    ...(role === 'snapshot' ? { snapshot: bytes } : {}),
    ...(role === 'targets' ? { targets: bytes } : {}),
    delegated: role === 'builder' ? { builder: bytes } : base.delegated,
  };
  return role === 'snapshot' ? { ...files, timestamp: repinSnapshot(files, keys.timestamp) } : files;
}

describe('fuzz: TUF metadata re-signed with real keys', function () {
  this.timeout(0);

  it('mutated root, timestamp, snapshot, targets and delegated targets verify, or fail with a coded error', async () => {
    const { files, keys } = published();
    const r = await fuzz({
      name: 'tuf',
      count: iterations(2000),
      generate: (rng, i) => {
        const role = rng.pick<Role>(['root', 'timestamp', 'snapshot', 'targets', 'builder', 'targets', 'builder']);
        return { role, files: i === 0 ? files : mutate(rng, files, keys, role), name: i === 0 ? FW : rng.pick([FW, APP, 'apps/other.bin', ...PROTOTYPE_KEYS]) };
      },
      run: ({ role, files: f, name }) => {
        const trusted = loadTrustedMetadata(f, { now, expiry: 'enforce' });
        scanTargets(trusted, now);
        delegationsToFetch(trusted);
        const image = name === APP ? app : fw;
        const verdict = verifyImage(trusted, { targetName: name, observed: { length: image.length, sha256: sha256Hex(image) }, hardwareId: 'board-a', now });
        // with the targets roles untouched, a name no role lists is unknown, whatever Object.prototype has
        if (PROTOTYPE_KEYS.includes(name) && role !== 'targets' && role !== 'builder') expect(verdict.ok ? 'VERIFIED' : verdict.code, name).to.equal('UNKNOWN_TARGET');
        return verdict;
      },
      describe: ({ role, name }) => `mutated ${role}, target ${name}`,
    });
    expect(r.values).to.be.greaterThan(0);
    expect(r.codes.size).to.be.greaterThan(2);
  });
});
