import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { Metadata, MetadataKind } from '@tufjs/models';
import { keyFromSeed, publicOnly, type SigningKey } from '../../src/crypto/ed25519.js';
import { Repository } from '../../src/repo/repository.js';
import { publishedLayout } from '../../src/repo/published-layout.js';
import { repoStatus } from '../../src/repo/status.js';
import { expectCode } from '../helpers/expect-code.js';

const key = (label: string): SigningKey => keyFromSeed(createHash('sha256').update(label).digest());
const NOW = new Date('2026-01-01T00:00:00Z');
const custom = { hardwareIds: ['board-a'], version: '1.2.0', securityVersion: 3, kind: 'firmware' };
const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

function newRepo(): Repository {
  return Repository.init({ keys: { root: [key('root')], targets: [key('targets')], snapshot: [key('snapshot')], timestamp: [key('timestamp')] } });
}

function files(repo: Repository): Map<string, unknown> {
  return new Map(publishedLayout(repo).metadata.map((f) => [f.path, JSON.parse(Buffer.from(f.bytes).toString('utf8'))]));
}

type Json = Parameters<typeof Metadata.fromJSON>[1];

describe('repo/Repository', () => {
  it('signs version 1 of every role; each verifies against root with @tufjs/models', () => {
    const repo = newRepo();
    repo.addTarget('fw/board-a.bin', { length: 5, sha256: sha('hello'), custom });
    expect(repo.sign(NOW).map((s) => `${s.role}@${s.version}`)).to.deep.equal(['root@1', 'targets@1', 'snapshot@1', 'timestamp@1']);
    const f = files(repo);
    expect([...f.keys()]).to.deep.equal(['metadata/1.root.json', 'metadata/1.targets.json', 'metadata/1.snapshot.json', 'metadata/timestamp.json']);
    const root = Metadata.fromJSON(MetadataKind.Root, f.get('metadata/1.root.json') as Json);
    root.verifyDelegate('root', root);
    root.verifyDelegate('targets', Metadata.fromJSON(MetadataKind.Targets, f.get('metadata/1.targets.json') as Json));
    root.verifyDelegate('snapshot', Metadata.fromJSON(MetadataKind.Snapshot, f.get('metadata/1.snapshot.json') as Json));
    const ts = Metadata.fromJSON(MetadataKind.Timestamp, f.get('metadata/timestamp.json') as Json);
    root.verifyDelegate('timestamp', ts);
    expect(root.signed.consistentSnapshot).to.equal(true);
    expect(ts.signed.expires).to.equal('2026-01-02T00:00:00Z');
    expect(ts.signed.snapshotMeta.hashes?.sha256).to.equal(sha(Buffer.from(publishedLayout(repo).metadata[2].bytes).toString('utf8')));
    expect(publishedLayout(repo).targets).to.deep.equal([{ name: 'fw/board-a.bin', path: `targets/fw/${sha('hello')}.board-a.bin`, length: 5, sha256: sha('hello') }]);
  });

  it('re-signs only what changed: a target edit bumps targets, snapshot and timestamp', () => {
    const repo = newRepo();
    repo.sign(NOW);
    expect(repo.sign(NOW)).to.deep.equal([]);
    repo.addTarget('app.tar', { length: 1, sha256: sha('x'), custom: { ...custom, kind: 'app' } });
    expect(repo.sign(NOW).map((s) => `${s.role}@${s.version}`)).to.deep.equal(['targets@2', 'snapshot@2', 'timestamp@2']);
    repo.markDirty('timestamp');
    expect(repo.sign(NOW).map((s) => `${s.role}@${s.version}`)).to.deep.equal(['timestamp@3']);
  });

  it('refuses unsafe target names and invalid custom fields', () => {
    const repo = newRepo();
    for (const bad of ['../x', 'a/../../x', '/etc/passwd', 'a\0b', 'a//b', './a', 'a\\b', '']) {
      expectCode(() => repo.addTarget(bad, { length: 1, sha256: sha('x'), custom }), 'UNSAFE_PATH');
    }
    expectCode(() => repo.addTarget('ok.bin', { length: 1, sha256: sha('x'), custom: { ...custom, kind: 'kernel' } }), 'MALFORMED_METADATA');
    expectCode(() => repo.removeTarget('absent.bin'), 'UNKNOWN_TARGET');
  });

  it('delegates path patterns to a builder role and refuses targets outside them', () => {
    const repo = newRepo();
    repo.delegate({ name: 'builder', paths: ['apps/*'], keys: [key('builder')] });
    repo.addTarget('apps/web.tar', { length: 2, sha256: sha('ab'), custom: { ...custom, kind: 'app' } }, { role: 'builder' });
    expectCode(() => repo.addTarget('fw/evil.bin', { length: 2, sha256: sha('ab'), custom }, { role: 'builder' }), 'DELEGATION_VIOLATION');
    expectCode(() => repo.addTarget('apps/sub/deep.tar', { length: 2, sha256: sha('ab'), custom }, { role: 'builder' }), 'DELEGATION_VIOLATION');
    repo.sign(NOW);
    const f = files(repo);
    const targets = Metadata.fromJSON(MetadataKind.Targets, f.get('metadata/1.targets.json') as Json);
    targets.verifyDelegate('builder', Metadata.fromJSON(MetadataKind.Targets, f.get('metadata/1.builder.json') as Json));
    const snap = f.get('metadata/1.snapshot.json') as { signed: { meta: unknown } };
    expect(snap.signed.meta).to.deep.equal({ 'targets.json': { version: 1 }, 'builder.json': { version: 1 } });
  });

  it('rotates the root key: N+1.root.json verifies with the old root and with itself, not with the old key alone', () => {
    const repo = newRepo();
    repo.sign(NOW);
    repo.rotateKeys('root', { add: [key('root-2')], remove: [key('root').keyid] });
    expect(repo.sign(NOW).map((s) => `${s.role}@${s.version}`)).to.deep.equal(['root@2']);
    const f = files(repo);
    const v1 = Metadata.fromJSON(MetadataKind.Root, f.get('metadata/1.root.json') as Json);
    const v2 = Metadata.fromJSON(MetadataKind.Root, f.get('metadata/2.root.json') as Json);
    v1.verifyDelegate('root', v2);
    v2.verifyDelegate('root', v2);
    expect(Object.keys(v2.signatures).sort()).to.deep.equal([key('root').keyid, key('root-2').keyid].sort());
    expect(Object.keys(v2.signed.keys)).not.to.include(key('root').keyid);
    const oldOnly = JSON.parse(JSON.stringify(f.get('metadata/2.root.json'))) as { signatures: { keyid: string }[] };
    oldOnly.signatures = oldOnly.signatures.filter((s) => s.keyid === key('root').keyid);
    expect(() => v2.verifyDelegate('root', Metadata.fromJSON(MetadataKind.Root, oldOnly))).to.throw(/signed by 0\/1/);
  });

  it('rotates the targets key: root v2 lists the new key and targets is re-signed with it', () => {
    const repo = newRepo();
    repo.sign(NOW);
    repo.rotateKeys('targets', { add: [key('targets-2')], remove: [key('targets').keyid] });
    expect(repo.sign(NOW).map((s) => `${s.role}@${s.version}`)).to.deep.equal(['root@2', 'targets@2', 'snapshot@2', 'timestamp@2']);
    const f = files(repo);
    const v2 = Metadata.fromJSON(MetadataKind.Root, f.get('metadata/2.root.json') as Json);
    const t2 = Metadata.fromJSON(MetadataKind.Targets, f.get('metadata/2.targets.json') as Json);
    v2.verifyDelegate('targets', t2);
    expect(Object.keys(t2.signatures)).to.deep.equal([key('targets-2').keyid]);
  });

  it('refuses to sign when fewer private keys than the threshold are available', () => {
    const offline = key('root-offline');
    const repo = Repository.init({
      keys: { root: [key('root'), publicOnly(offline)], targets: [key('targets')], snapshot: [key('snapshot')], timestamp: [key('timestamp')] },
      thresholds: { root: 2 },
    });
    expectCode(() => repo.sign(NOW), 'SIGNATURE_THRESHOLD');
    repo.addSigningKeys([offline]);
    expect(repo.sign(NOW)).to.have.length(4);
    expectCode(() => repo.rotateKeys('root', { threshold: 3 }), 'USAGE');
  });

  it('signs all or nothing: a role that cannot be signed leaves no half-bumped versions', () => {
    const repo = newRepo();
    repo.sign(NOW);
    const away = key('targets-away');
    repo.rotateKeys('root', { add: [key('root-2')] });
    repo.rotateKeys('targets', { add: [publicOnly(away)], remove: [key('targets').keyid] });
    expectCode(() => repo.sign(NOW), 'SIGNATURE_THRESHOLD');
    expect(repo.rootHistory()).to.have.length(1);
    expect(repo.pending()).to.include.members(['root', 'targets']);
    repo.addSigningKeys([away]);
    expect(repo.sign(NOW).map((s) => `${s.role}@${s.version}`)).to.deep.equal(['root@2', 'targets@2', 'snapshot@2', 'timestamp@2']);
  });

  it('survives a JSON round trip of its state and keeps signing from there', () => {
    const repo = newRepo();
    repo.sign(NOW);
    const again = Repository.fromState(JSON.parse(JSON.stringify(repo.toState())), [key('targets'), key('snapshot'), key('timestamp')]);
    again.addTarget('os.img', { length: 3, sha256: sha('abc'), custom: { ...custom, kind: 'os' } });
    expect(again.sign(NOW).map((s) => s.version)).to.deep.equal([2, 2, 2]);
    expectCode(() => Repository.fromState({ format: 'other' }), 'MALFORMED_METADATA');
  });

  it('reports status per role: version, expiry from now, threshold, keys, pending edits', () => {
    const repo = newRepo();
    repo.sign(NOW);
    repo.addTarget('a.bin', { length: 1, sha256: sha('a'), custom });
    const st = repoStatus(repo, new Date('2026-01-01T12:00:00Z'));
    const ts = st.find((s) => s.role === 'timestamp')!;
    expect(ts).to.include({ version: 1, expiresInSeconds: 43200, threshold: 1, pending: false, signingKeysAvailable: 1 });
    expect(st.find((s) => s.role === 'targets')).to.include({ pending: true, targets: 1 });
    expectCode(() => publishedLayout(repo), 'USAGE');
  });
});
