import { expect } from 'chai';
import { UPDATE_SCENARIO as S } from '../../firmware-fixtures/update-scenario.js';
import { buildImageVerifier, type ImageVerifier } from '../../src/agent/image-verifier.js';
import { REVOCATION_LIST_TYPE, serializeRevocationList, type RevocationList } from '../../src/revocation/list.js';
import { DEFAULT_FRESHNESS_POLICY } from '../../src/revocation/policy.js';
import { delegateRevocations, setRevocationTarget } from '../../src/revocation/publish.js';
import type { Freshness, RevocationStatus } from '../../src/revocation/store.js';
import { loadTrustedMetadata } from '../../src/tuf/offline/load-trusted.js';
import { addImage, customFor, imageOf, newRepo, publishedFiles, sha256Hex, T0, testKey } from '../helpers/tuf-repo.js';

// The one synchronous verifier the boot check and the gate share: TUF verdict → revocation → floor.
const NOW = new Date(T0.getTime() + 3_600_000);

function list(over: Partial<RevocationList>): RevocationList {
  return { _type: REVOCATION_LIST_TYPE, version: 3, issued: '2026-05-01T00:00:00Z', expires: '2026-07-01T00:00:00Z', keys: [], digests: [], minimumVersions: [], ...over };
}

// A held list as the cache reports it (the sha256 of its bytes is what the signed metadata must name).
function status(state: Freshness, l?: RevocationList): RevocationStatus {
  return { state, version: l?.version, highestVersion: l?.version ?? 0, ageDays: 31, expires: l?.expires, list: l, sha256: l ? sha256Hex(serializeRevocationList(l)) : undefined };
}

describe('agent image verifier (pure)', () => {
  const v1Bytes = imageOf('verifier-v1');
  const v1 = { length: v1Bytes.length, sha256: sha256Hex(v1Bytes) };
  // a repository with the scenario's v1 and v2 and, when given, `published` as its signed revocation list
  const build = (st: RevocationStatus, securityFloor = 0, onNever: 'require' | 'allow' = 'allow', published = st.list): ImageVerifier => {
    const { repo } = newRepo();
    addImage(repo, S.v1.target, v1Bytes, customFor({ version: S.v1.version, securityVersion: S.v1.securityVersion }));
    addImage(repo, S.v2.target, imageOf('verifier-v2'), customFor({ version: S.v2.version, securityVersion: S.v2.securityVersion }));
    if (published) {
      delegateRevocations(repo, [testKey('revocations')]);
      setRevocationTarget(repo, published);
    }
    repo.sign(T0);
    const files = publishedFiles(repo);
    const trusted = loadTrustedMetadata(files, { now: NOW, expiry: 'enforce' });
    return buildImageVerifier({ trusted, files, hardwareId: S.hardwareId, floors: { rootVersion: 1, securityVersion: securityFloor, revocationVersion: 0, targetsVersion: 0 }, revocations: () => st, freshness: { ...DEFAULT_FRESHNESS_POLICY, onNever } });
  };
  const code = (v: ReturnType<ImageVerifier['verify']>): string => (v.ok ? 'VERIFIED' : v.code);

  it('verifies, then enforces a held list at boot: revoked digest, revoked signer, minimum version', () => {
    const meta = { targetName: S.v1.target, kind: 'firmware' as const, securityFloor: true };
    const targetsKey = testKey('targets-0').keyid;
    expect(code(build(status('never')).verify(meta, v1, NOW))).to.equal('VERIFIED');
    expect(code(build(status('fresh', list({ digests: [{ sha256: v1.sha256 }] }))).verify(meta, v1, NOW))).to.equal('IMAGE_REVOKED');
    expect(code(build(status('fresh', list({ keys: [{ keyid: targetsKey }] }))).verify(meta, v1, NOW))).to.equal('KEY_REVOKED');
    expect(code(build(status('stale', list({ minimumVersions: [{ target: 'fw/board-a/*', version: '1.1.0' }] }))).verify(meta, v1, NOW))).to.equal('BELOW_MINIMUM_VERSION');
  });

  it('an expired list keeps booting (still enforced) but blocks updates; a never-fetched list blocks updates only when required', () => {
    const expired = build(status('expired', list({})));
    expect(code(expired.verify({ targetName: S.v1.target, kind: 'firmware' as const, securityFloor: true }, v1, NOW))).to.equal('VERIFIED');
    const [candidate] = expired.candidates(NOW).filter((c) => c.name === S.v2.target);
    expect(expired.revocation(candidate, NOW, 'update')).to.include({ ok: false, code: 'REVOCATION_STALE' });
    expect(build(status('never'), 0, 'require').revocation(candidate, NOW, 'update')).to.include({ ok: false, code: 'REVOCATION_STALE' });
    expect(build(status('never'), 0, 'allow').revocation(candidate, NOW, 'update')).to.deep.equal({ ok: true });
  });

  it('a held list the pinned-root metadata does not name (forged, or none held after one was accepted) is still enforced but blocks updates; boot follows onExpired.boot', () => {
    const meta = { targetName: S.v1.target, kind: 'firmware' as const, securityFloor: true };
    const genuine = list({ digests: [{ sha256: 'e'.repeat(64) }] });
    const forged = status('fresh', list({ digests: [{ sha256: v1.sha256 }], expires: '2099-01-01T00:00:00Z' }));
    const v = build(forged, 0, 'allow', genuine);
    expect(v.revocationProblem(NOW)).to.include({ code: 'REVOCATION_UNAUTHENTICATED' });
    expect(code(v.verify(meta, v1, NOW))).to.equal('IMAGE_REVOKED');
    const [candidate] = v.candidates(NOW).filter((c) => c.name === S.v2.target);
    expect(v.revocation(candidate, NOW, 'update')).to.include({ ok: false, code: 'REVOCATION_UNAUTHENTICATED' });
    const deleted = build({ ...status('never'), highestVersion: 3 }, 0, 'allow', genuine);
    expect(code(deleted.verify(meta, v1, NOW))).to.equal('VERIFIED');
    expect(deleted.revocation(candidate, NOW, 'update')).to.include({ ok: false, code: 'REVOCATION_UNAUTHENTICATED' });
    expect(build(status('fresh', genuine)).revocationProblem(NOW)).to.equal(undefined);
    expect(build(status('fresh', genuine)).revocation(candidate, NOW, 'update')).to.deep.equal({ ok: true });
  });

  it('holds only the A/B image to the TPM security floor', () => {
    const v = build(status('never'), 2);
    expect(code(v.verify({ targetName: S.v1.target, kind: 'firmware' as const, securityFloor: true }, v1, NOW))).to.equal('ROLLBACK');
    expect(code(v.verify({ targetName: S.v1.target, kind: 'firmware' as const, securityFloor: false }, v1, NOW))).to.equal('VERIFIED');
  });

  it('lists gate candidates with their sha256 and signer, and refuses names nothing vouches for', () => {
    const v = build(status('never'));
    expect(v.candidates(NOW).map((c) => [c.name, c.custom.version])).to.deep.equal([
      [S.v1.target, S.v1.version],
      [S.v2.target, S.v2.version],
    ]);
    expect(v.expected('fw/board-z/none.bin', 'firmware', NOW)).to.include({ ok: false, code: 'UNKNOWN_TARGET' });
  });
});
