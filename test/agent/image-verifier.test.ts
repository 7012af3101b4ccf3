import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FIXTURES_OUT, readMetadataDir } from '../../firmware-fixtures/manifest.js';
import { UPDATE_SCENARIO as S } from '../../firmware-fixtures/update-scenario.js';
import { buildImageVerifier, type ImageVerifier } from '../../src/agent/image-verifier.js';
import { REVOCATION_LIST_TYPE, type RevocationList } from '../../src/revocation/list.js';
import { DEFAULT_FRESHNESS_POLICY } from '../../src/revocation/policy.js';
import type { Freshness, RevocationStatus } from '../../src/revocation/store.js';
import { loadTrustedMetadata } from '../../src/tuf/offline/load-trusted.js';
import { targetBytes } from './rig.js';

// The one synchronous verifier the boot check and the gate share: TUF verdict → revocation → floor.
const NOW = new Date('2026-06-01T00:00:00Z');
const REPO = join(FIXTURES_OUT, S.repo);

function list(over: Partial<RevocationList>): RevocationList {
  return { _type: REVOCATION_LIST_TYPE, version: 3, issued: '2026-05-01T00:00:00Z', expires: '2026-07-01T00:00:00Z', keys: [], digests: [], minimumVersions: [], ...over };
}

function status(state: Freshness, l?: RevocationList): RevocationStatus {
  return { state, version: l?.version, highestVersion: l?.version ?? 0, ageDays: 31, expires: l?.expires, list: l };
}

describe('agent image verifier (pure)', () => {
  let v1: { length: number; sha256: string };
  const build = (st: RevocationStatus, securityFloor = 0, onNever: 'require' | 'allow' = 'allow'): ImageVerifier => {
    const trusted = loadTrustedMetadata(readMetadataDir(join(REPO, 'metadata')), { now: NOW, expiry: 'enforce' });
    return buildImageVerifier({ trusted, hardwareId: S.hardwareId, floors: { rootVersion: 1, securityVersion: securityFloor, revocationVersion: 0 }, revocations: () => st, freshness: { ...DEFAULT_FRESHNESS_POLICY, onNever } });
  };
  const code = (v: ReturnType<ImageVerifier['verify']>): string => (v.ok ? 'VERIFIED' : v.code);
  before(async () => {
    const bytes = await targetBytes(REPO, S.v1.target);
    v1 = { length: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
  });

  it('verifies, then enforces a held list at boot: revoked digest, revoked signer, minimum version', async () => {
    const meta = { targetName: S.v1.target, kind: 'firmware' as const, securityFloor: true };
    const targetsKey = (JSON.parse(await readFile(join(REPO, 'metadata', '1.root.json'), 'utf8')) as { signed: { roles: { targets: { keyids: string[] } } } }).signed.roles.targets.keyids[0];
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
