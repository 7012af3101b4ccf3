import { expect } from 'chai';
import { makeInstallRecord, parseInstallRecord, trustInstallRecord, type InstallRecordDoc } from '../../../src/tuf/offline/install-record.js';
import { loadTrustedMetadata } from '../../../src/tuf/offline/load-trusted.js';
import type { MetadataFiles } from '../../../src/tuf/offline/types.js';
import { Repository } from '../../../src/repo/repository.js';
import { addImage, after, customFor, imageOf, newRepo, publishedFiles, sha256Hex, T0, testKey } from '../../helpers/tuf-repo.js';

// Install records (src/tuf/offline/install-record.ts): made from the files a verified metadata set was
// loaded from, re-verified from the pinned root alone, and parsed at the boundary without crashing.
const FW = 'fw/board-a/fw.bin';
const BUILT = 'fw/board-a/built-1.bin';
const NOW = after(0.5);

function release(): { files: MetadataFiles; record: (name: string) => InstallRecordDoc } {
  const { repo } = newRepo();
  addImage(repo, FW, imageOf('fw'));
  repo.delegate({ name: 'builder', paths: ['fw/board-a/built-*'], keys: [testKey('builder')] });
  addImage(repo, BUILT, imageOf('built'), customFor({ version: '1.1.0' }), 'builder');
  repo.sign(T0);
  const files = publishedFiles(repo);
  const trusted = loadTrustedMetadata(files, { now: NOW, expiry: 'enforce' });
  return { files, record: (name) => makeInstallRecord(files, trusted, name, NOW) };
}

const bytes = (doc: unknown): Uint8Array => Buffer.from(JSON.stringify(doc));
const codeOf = (fn: () => unknown): string => {
  try {
    fn();
    return 'OK';
  } catch (err) {
    return (err as { code?: string }).code ?? 'THREW';
  }
};

describe('install records (pure)', () => {
  it('keeps the delegated roles on the target path and re-verifies through them, long after every role expired', () => {
    const { files, record } = release();
    const built = record(BUILT);
    expect(Object.keys(built.delegated)).to.deep.equal(['builder']);
    expect(Object.keys(record(FW).delegated)).to.deep.equal([]);
    const { target, view } = trustInstallRecord(files.initialRoot, files.rootChain, parseInstallRecord(bytes(built)), after(3650));
    expect(target).to.include({ name: BUILT, length: imageOf('built').length });
    expect(target.hashes.sha256).to.equal(sha256Hex(imageOf('built')));
    expect(target.signedBy.role).to.equal('builder');
    expect(view.expiry).to.equal('ignore');
  });

  it('refuses a record whose metadata or entry was edited, or that a different pinned root cannot reach', () => {
    const { files, record } = release();
    const doc = record(FW);
    const targets = JSON.parse(Buffer.from(doc.targets, 'base64').toString('utf8')) as { signed: { version: number } };
    targets.signed.version += 1;
    const edited = { ...doc, targets: Buffer.from(JSON.stringify(targets)).toString('base64') };
    expect(codeOf(() => trustInstallRecord(files.initialRoot, files.rootChain, edited, NOW))).to.equal('SIGNATURE_THRESHOLD');
    // genuine metadata, but the entry claims other bytes
    expect(codeOf(() => trustInstallRecord(files.initialRoot, files.rootChain, { ...doc, target: { ...doc.target, sha256: sha256Hex(imageOf('other')) } }, NOW))).to.equal('DIGEST_MISMATCH');
    // the builder's role left out: the lookup cannot reach the target
    expect(codeOf(() => trustInstallRecord(files.initialRoot, files.rootChain, { ...record(BUILT), delegated: {} }, NOW))).to.equal('MALFORMED_METADATA');
    const other = (role: string): ReturnType<typeof testKey>[] => [testKey(`stranger-${role}`)];
    const strangerRepo = Repository.init({ keys: { root: other('root'), targets: other('targets'), snapshot: other('snapshot'), timestamp: other('timestamp') } });
    strangerRepo.sign(T0);
    const stranger = publishedFiles(strangerRepo);
    expect(codeOf(() => trustInstallRecord(stranger.initialRoot, [], doc, NOW))).to.equal('SIGNATURE_THRESHOLD');
  });

  it('parses adversarial bytes into coded errors, never a crash; role names from input stay data', () => {
    const { files, record } = release();
    const doc = record(BUILT);
    const cases: [unknown, string][] = [
      ['not json', 'MALFORMED_METADATA'],
      [null, 'MALFORMED_METADATA'],
      [[], 'MALFORMED_METADATA'],
      [{ ...doc, format: 2 }, 'MALFORMED_METADATA'],
      [{ ...doc, target: null }, 'MALFORMED_METADATA'],
      [{ ...doc, target: { ...doc.target, sha256: 'XYZ' } }, 'MALFORMED_METADATA'],
      [{ ...doc, rootChain: 'x' }, 'MALFORMED_METADATA'],
      [{ ...doc, rootChain: [42] }, 'MALFORMED_METADATA'],
      [{ ...doc, targets: '***' }, 'MALFORMED_METADATA'],
      [{ ...doc, delegated: [] }, 'MALFORMED_METADATA'],
      [{ ...doc, delegated: { builder: {} } }, 'MALFORMED_METADATA'],
    ];
    for (const [input, code] of cases) {
      const raw = typeof input === 'string' ? Buffer.from(input) : bytes(input);
      expect(codeOf(() => parseInstallRecord(raw)), JSON.stringify(input)?.slice(0, 60)).to.equal(code);
    }
    expect(codeOf(() => parseInstallRecord(new Uint8Array(64 * 1024 * 1024 + 1)))).to.equal('OVERSIZED');
    // delegated role names that are Object.prototype members: a record lookup treats them as absent roles
    const proto = JSON.parse(`{"__proto__": "${doc.delegated.builder}", "constructor": "${doc.delegated.builder}"}`) as Record<string, string>;
    const parsed = parseInstallRecord(bytes({ ...doc, delegated: proto }));
    expect(codeOf(() => trustInstallRecord(files.initialRoot, files.rootChain, parsed, NOW))).to.equal('MALFORMED_METADATA');
  });

  it("refuses a record whose root chain is not the device's own: retired root keys cannot mint a root for a record", () => {
    // two rotations to root v2 signed by the same v1 root key: the device knows one, the record brings the other
    const rotated = (label: string): MetadataFiles => {
      const { repo } = newRepo();
      addImage(repo, FW, imageOf('fw'));
      repo.rotateKeys('root', { add: [testKey(label)], remove: [testKey('root-0').keyid] });
      repo.sign(T0);
      return publishedFiles(repo);
    };
    const genuine = rotated('root-v2-genuine');
    const forged = rotated('root-v2-forged');
    const record = (files: MetadataFiles): InstallRecordDoc => makeInstallRecord(files, loadTrustedMetadata(files, { now: NOW, expiry: 'enforce' }), FW, NOW);
    expect(trustInstallRecord(genuine.initialRoot, genuine.rootChain, record(genuine), NOW).target.name).to.equal(FW);
    expect(codeOf(() => trustInstallRecord(genuine.initialRoot, genuine.rootChain, record(forged), NOW))).to.equal('DIGEST_MISMATCH');
    // a record from before the rotation (a shorter chain) is a prefix of the device's chain
    expect(codeOf(() => trustInstallRecord(genuine.initialRoot, genuine.rootChain, { ...record(genuine), rootChain: [] }, NOW))).to.equal('OK');
  });
});
