import { expect } from 'chai';
import { Metadata, MetadataKind } from '@tufjs/models';
import { loadTrustedMetadata } from '../../../src/tuf/offline/load-trusted.js';
import type { MetadataFiles } from '../../../src/tuf/offline/types.js';
import { expectCode } from '../../helpers/expect-code.js';
import { addImage, after, editJson, imageOf, newRepo, publishedFiles, resign, T0, testKey } from '../../helpers/tuf-repo.js';

const enforce = { now: after(0.5), expiry: 'enforce' as const };

function signedRepo(): ReturnType<typeof newRepo> {
  const r = newRepo();
  addImage(r.repo, 'firmware/board-a/fw.bin', imageOf('fw'));
  r.repo.sign(T0);
  return r;
}

describe('tuf/offline loadTrustedMetadata', () => {
  it('trusts a freshly published repository and records who signed targets', () => {
    const { repo, keys } = signedRepo();
    const trusted = loadTrustedMetadata(publishedFiles(repo), enforce);
    expect(trusted.root.signed.version).to.equal(1);
    expect(trusted.roles.get('targets')!.keyids).to.deep.equal([keys.targets[0].keyid]);
  });

  describe('root chain (spec 5.3)', () => {
    it('walks a rotation where the new root is signed by old and new keys', () => {
      const { repo, keys } = signedRepo();
      const next = testKey('root-next');
      repo.rotateKeys('root', { add: [next], remove: [keys.root[0].keyid] });
      repo.sign(T0);
      const files = publishedFiles(repo);
      expect(files.rootChain).to.have.length(1);
      expect(loadTrustedMetadata(files, enforce).root.signed.version).to.equal(2);
    });

    it('refuses a new root signed only by its own keys (old threshold not met)', () => {
      const { repo, keys } = signedRepo();
      const next = testKey('root-next');
      repo.rotateKeys('root', { add: [next], remove: [keys.root[0].keyid] });
      repo.sign(T0);
      const files = publishedFiles(repo);
      const forged = resign(files.rootChain[0], () => undefined, [next]);
      expectCode(() => loadTrustedMetadata({ ...files, rootChain: [forged] }, enforce), 'SIGNATURE_THRESHOLD');
    });

    it('refuses a skipped root version', () => {
      const { repo, keys } = signedRepo();
      const files = publishedFiles(repo);
      const v3 = resign(files.initialRoot, (s) => void (s.version = 3), keys.root);
      expectCode(() => loadTrustedMetadata({ ...files, rootChain: [v3] }, enforce), 'ROLLBACK');
    });

    it('refuses a root below the device floor and an expired final root', () => {
      const { repo } = signedRepo();
      const files = publishedFiles(repo);
      expectCode(() => loadTrustedMetadata(files, { ...enforce, floors: { rootVersion: 2 } }), 'ROLLBACK');
      expectCode(() => loadTrustedMetadata(files, { now: after(400), expiry: 'enforce' }), 'EXPIRED');
    });
  });

  describe('thresholds count each key once', () => {
    it('refuses two signature entries from one key id as malformed', () => {
      const { repo } = signedRepo();
      const files = publishedFiles(repo);
      const doubled = editJson(files.timestamp, (env) => env.signatures.push({ ...env.signatures[0] }));
      expectCode(() => loadTrustedMetadata({ ...files, timestamp: doubled }, enforce), 'MALFORMED_METADATA');
    });

    it('does not let one key listed under two key ids reach a threshold of 2', () => {
      const { repo, keys } = signedRepo();
      const files = publishedFiles(repo);
      const ts = keys.timestamp[0];
      const alias = 'f'.repeat(64);
      const root = resign(files.initialRoot, (s) => {
        const r = s as unknown as { keys: Record<string, unknown>; roles: Record<string, { keyids: string[]; threshold: number }> };
        r.keys[alias] = r.keys[ts.keyid];
        r.roles.timestamp = { keyids: [ts.keyid, alias], threshold: 2 };
      }, keys.root);
      const timestamp = editJson(files.timestamp, (env) => env.signatures.push({ keyid: alias, sig: env.signatures[0].sig }));
      // @tufjs/models alone counts key ids, so it would accept this: the distinct-key rule is ours
      const rootMd = Metadata.fromJSON(MetadataKind.Root, JSON.parse(Buffer.from(root).toString()) as Parameters<typeof Metadata.fromJSON>[1]);
      const tsMd = Metadata.fromJSON(MetadataKind.Timestamp, JSON.parse(Buffer.from(timestamp).toString()) as Parameters<typeof Metadata.fromJSON>[1]);
      expect(() => rootMd.verifyDelegate('timestamp', tsMd)).not.to.throw();
      expectCode(() => loadTrustedMetadata({ ...files, initialRoot: root, timestamp }, enforce), 'SIGNATURE_THRESHOLD');
    });

    it('refuses metadata whose threshold is not met', () => {
      const r = newRepo({ keysPerRole: 2, thresholds: { snapshot: 2 } });
      r.repo.sign(T0);
      const files = publishedFiles(r.repo);
      const half = editJson(files.snapshot, (env) => void env.signatures.pop());
      // the timestamp names the snapshot's hash only when the publisher records it; re-point it by re-signing
      const ts = resign(files.timestamp, (s) => void ((s as unknown as { meta: Record<string, unknown> }).meta['snapshot.json'] = { version: 1 }), r.keys.timestamp);
      expectCode(() => loadTrustedMetadata({ ...files, snapshot: half, timestamp: ts }, enforce), 'SIGNATURE_THRESHOLD');
    });
  });

  describe('timestamp, snapshot, targets (spec 5.4–5.6)', () => {
    it('refuses a snapshot that does not match the hash the timestamp signed', () => {
      const { repo } = signedRepo();
      const files = publishedFiles(repo);
      const other = editJson(files.snapshot, (env) => void (env.extra = 1));
      expectCode(() => loadTrustedMetadata({ ...files, snapshot: other }, enforce), 'LENGTH_MISMATCH');
      const sameLength = Buffer.from(files.snapshot);
      sameLength[sameLength.length - 2] = sameLength[sameLength.length - 2] === 0x20 ? 0x0a : 0x20;
      expectCode(() => loadTrustedMetadata({ ...files, snapshot: sameLength }, enforce), 'DIGEST_MISMATCH');
    });

    it('refuses a targets file whose version is not the one snapshot names', () => {
      const { repo, keys } = signedRepo();
      const files = publishedFiles(repo);
      const older = resign(files.targets, (s) => void (s.version = 1), keys.targets);
      expectCode(() => loadTrustedMetadata({ ...files, targets: older }, enforce), 'ROLLBACK');
    });

    it('makes expiry a policy: enforce refuses, ignore accepts the same bytes', () => {
      const { repo } = signedRepo();
      const files: MetadataFiles = publishedFiles(repo);
      expectCode(() => loadTrustedMetadata(files, { now: after(2), expiry: 'enforce' }), 'EXPIRED');
      expect(loadTrustedMetadata(files, { now: after(2), expiry: 'ignore' }).timestamp.signed.version).to.equal(2);
    });

    it('holds timestamp, snapshot and targets versions to the device floors', () => {
      const { repo } = signedRepo();
      const files = publishedFiles(repo);
      expectCode(() => loadTrustedMetadata(files, { ...enforce, floors: { timestampVersion: 3 } }), 'ROLLBACK');
      expectCode(() => loadTrustedMetadata(files, { ...enforce, floors: { snapshotVersion: 3 } }), 'ROLLBACK');
      expectCode(() => loadTrustedMetadata(files, { ...enforce, floors: { targetsVersion: 3 } }), 'ROLLBACK');
      expect(() => loadTrustedMetadata(files, { ...enforce, floors: { timestampVersion: 2, snapshotVersion: 2, targetsVersion: 2 } })).not.to.throw();
    });
  });
});
