import { expect } from 'chai';
import { publishedLayout } from '../../../src/repo/published-layout.js';
import { loadTrustedMetadata } from '../../../src/tuf/offline/load-trusted.js';
import type { MetadataFiles, Verdict } from '../../../src/tuf/offline/types.js';
import { verifyImage } from '../../../src/tuf/offline/verify-image.js';
import { addImage, after, customFor, filesOf, imageOf, newRepo, resign, sha256Hex, T0, testKey } from '../../helpers/tuf-repo.js';

// A verify of one target (LoadOptions.target) reads and verifies only the delegated roles its lookup walks.
const now = after(0.5);
const app = imageOf('app', 3000);
const keyA = testKey('builder-a');
const keyB = testKey('builder-b');
const A = 'builder-a/app.bin';
const B = 'builder-b/app.bin';

const TEAM = 'builder-a/team-x.bin';
const keyTeam = testKey('team');

// targets → builder-a (builder-a/*) → team (builder-a/team-*), and targets → builder-b (builder-b/*)
function twoBuilders(opts: { bExpires?: Date } = {}): MetadataFiles {
  const { repo } = newRepo();
  repo.delegate({ name: 'builder-a', paths: ['builder-a/*'], keys: [keyA] });
  repo.delegate({ name: 'builder-b', paths: ['builder-b/*'], keys: [keyB] });
  repo.delegate({ name: 'team', paths: ['builder-a/team-*'], keys: [keyTeam], parent: 'builder-a' });
  addImage(repo, A, app, customFor({ kind: 'app' }), 'builder-a');
  addImage(repo, TEAM, app, customFor({ kind: 'app' }), 'team');
  addImage(repo, B, app, customFor({ kind: 'app' }), 'builder-b');
  repo.sign(T0);
  const files = filesOf(publishedLayout(repo));
  if (!opts.bExpires) return files;
  const expires = opts.bExpires.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return { ...files, delegated: { ...files.delegated, 'builder-b': resign(files.delegated['builder-b'], (s) => Object.assign(s, { expires }), [keyB]) } };
}

// The delegated files, recording which roles were read.
function watched(delegated: Readonly<Record<string, Uint8Array>>): { files: Record<string, Uint8Array>; read: Set<string> } {
  const read = new Set<string>();
  const note = (key: string | symbol): void => void (typeof key === 'string' && read.add(key));
  const files = new Proxy({ ...delegated }, {
    get: (t, key, r) => (note(key), Reflect.get(t, key, r) as unknown),
    getOwnPropertyDescriptor: (t, key) => (note(key), Reflect.getOwnPropertyDescriptor(t, key)),
  });
  return { files, read };
}

const verdictFor = (files: MetadataFiles, name: string, target?: string): Verdict =>
  verifyImage(loadTrustedMetadata(files, { now, expiry: 'enforce', ...(target ? { target } : {}) }), { targetName: name, observed: { length: app.length, sha256: sha256Hex(app) }, now });
const codeOf = (v: Verdict): string => (v.ok ? 'VERIFIED' : v.code);

describe('tuf/offline: verify of one target walks only its delegations', () => {
  it('never reads a delegated role off the walk', () => {
    const files = twoBuilders();
    const { files: delegated, read } = watched(files.delegated);
    const trusted = loadTrustedMetadata({ ...files, delegated }, { now, expiry: 'enforce', target: B });
    expect([...read]).to.deep.equal(['builder-b']); // neither builder-a nor the team role it delegates to
    expect([...trusted.roles.keys()]).to.deep.equal(['targets', 'builder-b']);
    expect(trusted.rejected.size).to.equal(0);
  });

  it('verifies a target through one role while an unrelated role is corrupt, and refuses a target in the corrupt role', () => {
    const files = twoBuilders();
    for (const bad of [Buffer.from('{not json'), resign(files.delegated['builder-a'], () => undefined, [keyB])]) {
      const corrupt = { ...files, delegated: { ...files.delegated, 'builder-a': bad } };
      expect(codeOf(verdictFor(corrupt, B, B))).to.equal('VERIFIED');
      expect(codeOf(verdictFor(corrupt, A, A))).to.be.oneOf(['MALFORMED_METADATA', 'SIGNATURE_THRESHOLD']);
      expect(codeOf(verdictFor(corrupt, A, A))).to.equal(codeOf(verdictFor(corrupt, A))); // as the full load says
    }
  });

  it('walks nested delegations, each role checked against the keys of the role that delegates it', () => {
    const files = twoBuilders();
    const { files: delegated, read } = watched({ ...files.delegated, 'builder-b': Buffer.from('corrupt') });
    const trusted = loadTrustedMetadata({ ...files, delegated }, { now, expiry: 'enforce', target: TEAM });
    expect([...read]).to.deep.equal(['builder-a', 'team']);
    expect(codeOf(verifyImage(trusted, { targetName: TEAM, observed: { length: app.length, sha256: sha256Hex(app) }, now }))).to.equal('VERIFIED');
    const byA = { ...files, delegated: { ...files.delegated, team: resign(files.delegated.team, () => undefined, [keyA]) } };
    expect(codeOf(verdictFor(byA, TEAM, TEAM))).to.equal('SIGNATURE_THRESHOLD');
  });

  it('verifies a target while an unrelated role is missing, and refuses a target in the missing role', () => {
    const files = twoBuilders();
    const onlyB = { ...files, delegated: { 'builder-b': files.delegated['builder-b'] } };
    expect(codeOf(verdictFor(onlyB, B, B))).to.equal('VERIFIED');
    expect(codeOf(verdictFor(onlyB, A, A))).to.equal('MALFORMED_METADATA');
  });

  it('keeps every check on the roles it walks: signatures by the delegator keys, version named by snapshot, spec version, expiry', () => {
    const files = twoBuilders();
    const withB = (edit: Parameters<typeof resign>[1], keys = [keyB]): MetadataFiles => ({ ...files, delegated: { ...files.delegated, 'builder-b': resign(files.delegated['builder-b'], edit, keys) } });
    expect(codeOf(verdictFor(withB(() => undefined, [keyA]), B, B))).to.equal('SIGNATURE_THRESHOLD');
    expect(codeOf(verdictFor(withB((s) => Object.assign(s, { version: 2 })), B, B))).to.equal('ROLLBACK');
    expect(codeOf(verdictFor(withB((s) => Object.assign(s, { spec_version: '2.0.0' })), B, B))).to.equal('MALFORMED_METADATA');
    expect(codeOf(verdictFor(twoBuilders({ bExpires: after(0.25) }), B, B))).to.equal('EXPIRED');
  });

  it('says what the full load says for a target no role on the walk lists', () => {
    const files = twoBuilders();
    // builder-a lists it but is trusted for builder-a/* only: a delegation violation, not an unknown target
    const outside = { ...files, delegated: { ...files.delegated, 'builder-a': resign(files.delegated['builder-a'], (s) => Object.assign((s as { targets: Record<string, unknown> }).targets, { 'builder-b/x.bin': (s as { targets: Record<string, unknown> }).targets[A] }), [keyA]) } };
    expect(codeOf(verdictFor(outside, 'builder-b/x.bin', 'builder-b/x.bin'))).to.equal('DELEGATION_VIOLATION');
    expect(codeOf(verdictFor(files, 'elsewhere/none.bin', 'elsewhere/none.bin'))).to.equal('UNKNOWN_TARGET');
  });
});
