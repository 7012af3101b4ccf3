import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Updater } from 'tuf-js';
import { keyFromSeed, type SigningKey } from '../../src/crypto/ed25519.js';
import { publishedLayout } from '../../src/repo/published-layout.js';
import { Repository } from '../../src/repo/repository.js';
import { signEnvelope } from '../../src/repo/signing.js';
import type { Envelope, TargetsSigned } from '../../src/repo/tuf-json.js';
import { RevocationCache } from '../../src/revocation/cache.js';
import { REVOCATION_TARGET_NAME } from '../../src/revocation/list.js';
import { checkRevocation } from '../../src/revocation/policy.js';
import { delegateRevocations, nextRevocationList, setRevocationTarget, type RevocationEntry } from '../../src/revocation/publish.js';
import { fetchViaTuf, revocationTargetInfo } from '../../src/revocation/tuf-source.js';
import { loadTrustedMetadata } from '../../src/tuf/offline/load-trusted.js';
import { verifyImage } from '../../src/tuf/offline/verify-image.js';
import { enforceRevocation } from '../../src/revocation/enforce.js';
import { RevocationStore } from '../../src/revocation/store.js';
import { startRangeServer, type RangeServer } from '../ota/range-server.js';
import { expectCode, expectCodeAsync } from '../helpers/expect-code.js';

// The whole path on real TUF: the publisher's Repository signs the list under the `revocations`
// delegation, a loopback HTTP mirror serves it, tuf-js authenticates it, the device cache stores it.
const key = (label: string): SigningKey => keyFromSeed(createHash('sha256').update(label).digest());
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const KEYID = 'c'.repeat(64);
const image = { targetName: 'fw/board-a.bin', sha256: 'e'.repeat(64), version: '1.0.0', hardwareId: 'board-a', keyids: [KEYID] };

class Publisher {
  readonly repo = Repository.init({ keys: { root: [key('root')], targets: [key('targets')], snapshot: [key('snapshot')], timestamp: [key('timestamp')] } });
  readonly blobs = new Map<string, Uint8Array>();
  list: ReturnType<typeof nextRevocationList> | undefined;

  constructor(revocationKeys: SigningKey[], threshold = 1) {
    delegateRevocations(this.repo, revocationKeys, threshold);
  }

  revoke(entry?: RevocationEntry): void {
    this.list = nextRevocationList(this.list, entry, new Date());
    const bytes = setRevocationTarget(this.repo, this.list);
    this.blobs.set(sha(bytes), bytes);
    this.repo.sign(new Date());
  }

  // The mirror's file map, as the published directory would hold it.
  files(): Record<string, Uint8Array> {
    const layout = publishedLayout(this.repo);
    return Object.fromEntries([
      ...layout.metadata.map((f): [string, Uint8Array] => [`/repo/${f.path}`, f.bytes]),
      ...layout.targets.map((t): [string, Uint8Array] => [`/repo/${t.path}`, this.blobs.get(t.sha256)!]),
    ]);
  }
}

describe('revocation list over TUF (publisher → HTTP mirror → tuf-js → cache)', () => {
  let server: RangeServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function device(files: Record<string, Uint8Array>): Promise<{ cache: RevocationCache; fetch: ReturnType<typeof fetchViaTuf>; mirror: Record<string, Uint8Array> }> {
    const mirror = { ...files };
    server = await startRangeServer(mirror);
    const base = server.baseUrl;
    const work = await mkdtemp(join(tmpdir(), 'es-rev-e2e-'));
    const cache = await RevocationCache.open({ stateDir: work, graceDays: 7 });
    // A fresh TUF client per attempt, trusting only the initial root (as a newly provisioned device).
    const open = async (): Promise<Updater> => {
      const dir = await mkdtemp(join(work, 'tuf-'));
      await writeFile(join(dir, 'root.json'), files['/repo/metadata/1.root.json']);
      return new Updater({ metadataDir: dir, metadataBaseUrl: `${base}metadata`, targetBaseUrl: `${base}targets`, targetDir: dir });
    };
    return { cache, fetch: fetchViaTuf(open, work), mirror };
  }

  async function accept(d: Awaited<ReturnType<typeof device>>): Promise<number> {
    const { bytes, info } = await d.fetch();
    return (await d.cache.accept(bytes, info, new Date())).version;
  }

  it('a key revoked by the publisher reaches the device and refuses images signed only by it', async () => {
    const pub = new Publisher([key('rev-1')]);
    pub.revoke({ kind: 'key', keyid: KEYID, reason: 'builder key leaked', reference: 'INC-1' });
    const d = await device(pub.files());
    expect(await accept(d)).to.equal(1);
    const err = checkRevocation(d.cache.status(new Date()).list!, image);
    expect(err?.code).to.equal('KEY_REVOKED');
    expect(err?.message).to.contain('INC-1');
  });

  it('an older list replayed by the mirror (validly signed back then) is refused: ROLLBACK', async () => {
    const pub = new Publisher([key('rev-1')]);
    pub.revoke();
    const old = pub.files();
    pub.revoke({ kind: 'digest', sha256: image.sha256 });
    const d = await device(pub.files());
    expect(await accept(d)).to.equal(2);
    for (const k of Object.keys(d.mirror)) delete d.mirror[k];
    Object.assign(d.mirror, old);
    await expectCodeAsync(() => accept(d), 'ROLLBACK');
    expect(checkRevocation(d.cache.status(new Date()).list!, image)?.code).to.equal('IMAGE_REVOKED');
  });

  it('forged revocations metadata (signed with the wrong key) is refused and the cache keeps the good list', async () => {
    const pub = new Publisher([key('rev-1')]);
    pub.revoke({ kind: 'key', keyid: KEYID });
    const d = await device(pub.files());
    await accept(d);
    // The attacker empties the list and re-signs revocations.json with a key the delegation does not name.
    const forgedList = new TextEncoder().encode(JSON.stringify({ ...pub.list, keys: [] }));
    const env = structuredClone(pub.repo.envelope('revocations')) as Envelope<TargetsSigned>;
    env.signed.targets[REVOCATION_TARGET_NAME] = { length: forgedList.length, hashes: { sha256: sha(forgedList) } };
    const forged = signEnvelope(env.signed, [key('attacker')]);
    d.mirror[`/repo/metadata/${env.signed.version}.revocations.json`] = new TextEncoder().encode(JSON.stringify(forged));
    d.mirror[`/repo/targets/revocations/${sha(forgedList)}.list.json`] = forgedList;
    await expectCodeAsync(() => accept(d), 'SIGNATURE_THRESHOLD');
    expect(d.cache.status(new Date())).to.include({ version: 1 });
    expect(checkRevocation(d.cache.status(new Date()).list!, image)?.code).to.equal('KEY_REVOKED');
  });

  it('revocations metadata below its threshold (2 of 2, one signature) is refused', async () => {
    const pub = new Publisher([key('rev-1'), key('rev-2')], 2);
    pub.revoke();
    const files = pub.files();
    const path = `/repo/metadata/${pub.repo.envelope('revocations').signed.version}.revocations.json`;
    const env = JSON.parse(Buffer.from(files[path]).toString('utf8')) as Envelope;
    expect(env.signatures).to.have.length(2);
    files[path] = new TextEncoder().encode(JSON.stringify({ ...env, signatures: env.signatures.slice(0, 1) }));
    const d = await device(files);
    await expectCodeAsync(() => accept(d), 'SIGNATURE_THRESHOLD');
    expect(d.cache.status(new Date()).state).to.equal('never');
  });

  it('a list file swapped on the mirror (not the bytes TUF signed) is refused', async () => {
    const pub = new Publisher([key('rev-1')]);
    pub.revoke({ kind: 'key', keyid: KEYID });
    const files = pub.files();
    const listPath = Object.keys(files).find((p) => p.includes('/targets/revocations/'))!;
    const swapped = Buffer.from(files[listPath]);
    swapped[swapped.length - 3] ^= 1;
    files[listPath] = swapped;
    const d = await device(files);
    await expectCodeAsync(() => accept(d), 'DIGEST_MISMATCH');
    expect(d.cache.status(new Date()).state).to.equal('never');
  });

  it('boot check: a verified image whose only signing key is revoked is refused; another unrevoked signer meeting the threshold passes', () => {
    const pub = new Publisher([key('rev-1')]);
    const fw = new TextEncoder().encode('firmware image bytes');
    const custom = { hardwareIds: ['board-a'], version: '1.0.0', securityVersion: 1, kind: 'firmware' };
    pub.repo.addTarget('fw/board-a.bin', { length: fw.length, sha256: sha(fw), custom });
    pub.revoke({ kind: 'key', keyid: key('targets').keyid, reason: 'targets key leaked' });
    const f = pub.files();
    const meta = (role: string): Uint8Array => f[`/repo/metadata/${pub.repo.envelope(role).signed.version}.${role}.json`];
    const now = new Date();
    const trusted = loadTrustedMetadata(
      { initialRoot: f['/repo/metadata/1.root.json'], rootChain: [], timestamp: f['/repo/metadata/timestamp.json'], snapshot: meta('snapshot'), targets: meta('targets'), delegated: { revocations: meta('revocations') } },
      { now, expiry: 'enforce' },
    );
    const verdict = verifyImage(trusted, { targetName: 'fw/board-a.bin', observed: { length: fw.length, sha256: sha(fw) }, hardwareId: 'board-a', now });
    if (!verdict.ok) expect.fail(`expected the image to verify, got ${verdict.code}`);
    const store = new RevocationStore({ graceDays: 7 });
    const info = revocationTargetInfo(trusted, now);
    store.update(pub.blobs.get(info.sha256)!, info, now);
    const subject = { targetName: verdict.target.name, sha256: sha(fw), version: verdict.target.custom.version, hardwareId: 'board-a', keyids: verdict.keyids };
    expect(enforceRevocation(store.current(now), 'boot', subject)).to.include({ ok: false, code: 'KEY_REVOKED' });
    // Signed by another, unrevoked key as well, the image passes when the threshold (1) is known.
    expect(enforceRevocation(store.current(now), 'boot', { ...subject, keyids: [...verdict.keyids, key('other').keyid], threshold: 1 })).to.include({ ok: true });
  });

  it('the offline verifier vouches for the list through the revocations delegation', () => {
    const pub = new Publisher([key('rev-1')]);
    pub.revoke({ kind: 'key', keyid: KEYID });
    const f = pub.files();
    const v = pub.repo.envelope('revocations').signed.version;
    const files = {
      initialRoot: f['/repo/metadata/1.root.json'],
      rootChain: [],
      timestamp: f['/repo/metadata/timestamp.json'],
      snapshot: f[`/repo/metadata/${pub.repo.envelope('snapshot').signed.version}.snapshot.json`],
      targets: f[`/repo/metadata/${pub.repo.envelope('targets').signed.version}.targets.json`],
      delegated: { revocations: f[`/repo/metadata/${v}.revocations.json`] },
    };
    const now = new Date();
    const info = revocationTargetInfo(loadTrustedMetadata(files, { now, expiry: 'enforce' }), now);
    expect(info.signedBy).to.deep.equal({ role: 'revocations', keyids: [key('rev-1').keyid] });
    const listBytes = Object.entries(f).find(([p]) => p.includes('/targets/revocations/'))![1];
    expect(info).to.include({ length: listBytes.length, sha256: sha(listBytes) });
    // Without the revocations role's metadata the list is not vouched for.
    expectCode(() => revocationTargetInfo(loadTrustedMetadata({ ...files, delegated: {} }, { now, expiry: 'enforce' }), now), 'MALFORMED_METADATA');
    // Nor when that metadata is signed by a key the delegation does not name.
    const forged = signEnvelope(pub.repo.envelope('revocations').signed, [key('attacker')]);
    const withForged = { ...files, delegated: { revocations: new TextEncoder().encode(JSON.stringify(forged)) } };
    expectCode(() => revocationTargetInfo(loadTrustedMetadata(withForged, { now, expiry: 'enforce' }), now), 'SIGNATURE_THRESHOLD');
  });
});
