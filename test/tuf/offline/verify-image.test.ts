import { expect } from 'chai';
import { publishedLayout } from '../../../src/repo/published-layout.js';
import { loadTrustedMetadata } from '../../../src/tuf/offline/load-trusted.js';
import type { MetadataFiles, TrustedMetadata, Verdict } from '../../../src/tuf/offline/types.js';
import { listTargets, scanTargets, verifyImage } from '../../../src/tuf/offline/verify-image.js';
import { addImage, after, customFor, filesOf, imageOf, newRepo, resign, sha256Hex, T0, testKey } from '../../helpers/tuf-repo.js';

const now = after(0.5);
const FW = 'firmware/board-a/fw.bin';
const fw = imageOf('fw', 10_000);
const app = imageOf('app', 3000);
const builder = testKey('builder');
const other = testKey('other');

const observed = (bytes: Uint8Array): { length: number; sha256: string } => ({ length: bytes.length, sha256: sha256Hex(bytes) });
const load = (files: MetadataFiles): TrustedMetadata => loadTrustedMetadata(files, { now, expiry: 'enforce' });
const codeOf = (v: Verdict): string => (v.ok ? 'VERIFIED' : v.code);

// targets → builder (apps/*, terminating unless told otherwise) → and optionally a second role for apps/*
function delegatedRepo(opts: { terminating?: boolean; second?: boolean } = {}): { files: MetadataFiles } {
  const { repo } = newRepo();
  addImage(repo, FW, fw, customFor({ version: '2.1.0', securityVersion: 4, slot: 'a' }));
  repo.delegate({ name: 'builder', paths: ['apps/*'], keys: [builder], terminating: opts.terminating ?? true });
  if (opts.second) {
    repo.delegate({ name: 'other', paths: ['apps/*'], keys: [other] });
    addImage(repo, 'apps/late.bin', app, customFor({ kind: 'app' }), 'other');
  }
  addImage(repo, 'apps/app.bin', app, customFor({ kind: 'app', hardwareIds: ['board-a', 'board-b'] }), 'builder');
  repo.sign(T0);
  return { files: filesOf(publishedLayout(repo)) };
}

describe('tuf/offline verifyImage', () => {
  it('verifies a top-level image and reports target, version, key ids and root version', () => {
    const v = verifyImage(load(delegatedRepo().files), { targetName: FW, observed: observed(fw), hardwareId: 'board-a', now });
    expect(v.ok).to.equal(true);
    if (!v.ok) return;
    expect(v.target.custom).to.deep.include({ version: '2.1.0', securityVersion: 4, slot: 'a' });
    expect(v.target.signedBy.role).to.equal('targets');
    expect(v.keyids).to.deep.equal([testKey('targets-0').keyid]);
    expect(v.rootVersion).to.equal(1);
  });

  it('refuses tampered, truncated, foreign-hardware and unknown images with their codes', () => {
    const trusted = load(delegatedRepo().files);
    const tampered = Buffer.from(fw);
    tampered[5000] ^= 1;
    const at = (targetName: string, bytes: Uint8Array, hardwareId = 'board-a'): string => codeOf(verifyImage(trusted, { targetName, observed: observed(bytes), hardwareId, now }));
    expect(at(FW, tampered)).to.equal('DIGEST_MISMATCH');
    expect(at(FW, fw.subarray(0, 9000))).to.equal('LENGTH_MISMATCH');
    expect(at(FW, fw, 'board-b')).to.equal('HARDWARE_MISMATCH');
    expect(at('firmware/board-a/none.bin', fw)).to.equal('UNKNOWN_TARGET');
  });

  it('re-checks expiry at the verify time when the policy is enforce', () => {
    const trusted = load(delegatedRepo().files);
    const v = verifyImage(trusted, { targetName: FW, observed: observed(fw), hardwareId: 'board-a', now: after(100) });
    expect(codeOf(v)).to.equal('EXPIRED');
  });

  describe('delegations', () => {
    it('verifies an image signed by a delegated builder inside its paths, naming the builder key', () => {
      const v = verifyImage(load(delegatedRepo().files), { targetName: 'apps/app.bin', observed: observed(app), hardwareId: 'board-b', now });
      expect(v.ok && v.target.signedBy).to.deep.equal({ role: 'builder', keyids: [builder.keyid] });
    });

    it('refuses targets a builder signs outside its patterns, where `*` does not cross "/"', () => {
      const { files } = delegatedRepo();
      const custom = customFor({ kind: 'app' });
      const entry = { length: app.length, hashes: { sha256: sha256Hex(app) }, custom };
      const forged = resign(files.delegated.builder, (s) => {
        const t = (s as unknown as { targets: Record<string, unknown> }).targets;
        t['apps/sub/app.bin'] = entry;
        t['firmware/board-a/evil.bin'] = entry;
      }, [builder]);
      const trusted = load({ ...files, delegated: { builder: forged } });
      for (const name of ['apps/sub/app.bin', 'firmware/board-a/evil.bin']) {
        expect(codeOf(verifyImage(trusted, { targetName: name, observed: observed(app), hardwareId: 'board-a', now }))).to.equal('DELEGATION_VIOLATION');
      }
      expect(listTargets(trusted).map((t) => t.name)).to.deep.equal(['apps/app.bin', FW]);
    });

    it('lists images only: a signed artifact that declares custom.type (the revocation list) is left out', () => {
      const { files } = delegatedRepo();
      const withList = resign(files.targets, (s) => {
        const t = (s as unknown as { targets: Record<string, unknown> }).targets;
        t['revocations/list.json'] = { length: 2, hashes: { sha256: sha256Hex(Buffer.from('{}')) }, custom: { type: 'edgeseal-revocations', version: 1 } };
      }, [testKey('targets-0')]);
      const names = listTargets(load({ ...files, targets: withList })).map((t) => t.name);
      expect(names).to.deep.equal(['apps/app.bin', FW]);
    });

    it('sets aside targets without valid image custom fields instead of failing the whole list', () => {
      const { files } = delegatedRepo();
      const plain = { length: app.length, hashes: { sha256: sha256Hex(app) } };
      const withPlain = resign(files.targets, (s) => {
        const t = (s as unknown as { targets: Record<string, unknown> }).targets;
        t['docs/readme.txt'] = plain; // as a standard TUF tool publishes it: no custom at all
        t['firmware/board-a/bad.bin'] = { ...plain, custom: customFor({ securityVersion: -1 }) };
      }, [testKey('targets-0')]);
      const withBadApp = resign(files.delegated.builder, (s) => {
        (s as unknown as { targets: Record<string, unknown> }).targets['apps/bad.bin'] = { ...plain, custom: { kind: 'app' } };
      }, [builder]);
      const trusted = load({ ...files, targets: withPlain, delegated: { builder: withBadApp } });
      expect(listTargets(trusted).map((t) => t.name)).to.deep.equal(['apps/app.bin', FW]);
      const { images, rejected } = scanTargets(trusted);
      expect(images.map((t) => t.name)).to.deep.equal(['apps/app.bin', FW]);
      expect(rejected.map((r) => [r.name, r.code])).to.deep.equal([
        ['apps/bad.bin', 'MALFORMED_METADATA'],
        ['docs/readme.txt', 'MALFORMED_METADATA'],
        ['firmware/board-a/bad.bin', 'MALFORMED_METADATA'],
      ]);
      expect(rejected[2].message).to.contain('custom.securityVersion');
      // the target actually being verified still fails closed
      expect(codeOf(verifyImage(trusted, { targetName: 'docs/readme.txt', observed: observed(app), hardwareId: 'board-a', now }))).to.equal('MALFORMED_METADATA');
      expect(codeOf(verifyImage(trusted, { targetName: FW, observed: observed(fw), hardwareId: 'board-a', now }))).to.equal('VERIFIED');
    });

    it('stops at a terminating delegation, and searches on past a non-terminating one', () => {
      const stopped = load(delegatedRepo({ second: true }).files);
      expect(codeOf(verifyImage(stopped, { targetName: 'apps/late.bin', observed: observed(app), hardwareId: 'board-a', now }))).to.equal('DELEGATION_VIOLATION');
      const searched = load(delegatedRepo({ second: true, terminating: false }).files);
      const v = verifyImage(searched, { targetName: 'apps/late.bin', observed: observed(app), hardwareId: 'board-a', now });
      expect(v.ok && v.target.signedBy.role).to.equal('other');
    });

    it('blocks only the lookups that reach a delegated role with a bad signature', () => {
      const { files } = delegatedRepo();
      const forged = resign(files.delegated.builder, () => undefined, [other]);
      const trusted = load({ ...files, delegated: { builder: forged } });
      expect(codeOf(verifyImage(trusted, { targetName: 'apps/app.bin', observed: observed(app), hardwareId: 'board-a', now }))).to.equal('SIGNATURE_THRESHOLD');
      expect(codeOf(verifyImage(trusted, { targetName: FW, observed: observed(fw), hardwareId: 'board-a', now }))).to.equal('VERIFIED');
    });

    it('fails closed when a delegated role on the search path is missing', () => {
      const { files } = delegatedRepo();
      const trusted = load({ ...files, delegated: {} });
      expect(codeOf(verifyImage(trusted, { targetName: 'apps/app.bin', observed: observed(app), hardwareId: 'board-a', now }))).to.equal('MALFORMED_METADATA');
    });
  });

  it('lists every vouched-for target with parsed custom fields and signer', () => {
    const list = listTargets(load(delegatedRepo({ second: true, terminating: false }).files));
    expect(list.map((t) => [t.name, t.signedBy.role, t.custom.kind])).to.deep.equal([
      ['apps/app.bin', 'builder', 'app'],
      ['apps/late.bin', 'other', 'app'],
      [FW, 'targets', 'firmware'],
    ]);
  });
});
