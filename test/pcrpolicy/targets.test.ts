import { expect } from 'chai';
import { loadTrustedMetadata } from '../../src/tuf/offline/load-trusted.js';
import { namedPcrPolicies, PCR_POLICY_TYPE } from '../../src/pcrpolicy/targets.js';
import type { TargetsSigned } from '../../src/repo/tuf-json.js';
import { T0, newRepo, publishedFiles, testKey } from '../helpers/tuf-repo.js';

const sha = 'ab'.repeat(32);

// What the verified metadata names as signed PCR policies (pure): the targets role's and a delegated
// role's within its paths; a path outside any delegation, a bad name, a missing hash, a missing
// generation or a signed length past the cap are set aside with their code, never fatal to the set.
describe('namedPcrPolicies: signed PCR policy targets in verified metadata', () => {
  it('names good entries and sets aside each bad one with its code', () => {
    const { repo } = newRepo();
    repo.delegate({ name: 'boot', paths: ['pcr-policies/boot-*'], keys: [testKey('boot')], terminating: true });
    const put = (role: string, name: string, entry: Record<string, unknown>): void =>
      repo.editSigned(role, (s) => {
        (s as TargetsSigned).targets[name] = { length: 900, hashes: { sha256: sha }, custom: { type: PCR_POLICY_TYPE, generation: 2 }, ...entry };
      });
    put('targets', 'pcr-policies/2.json', {});
    put('boot', 'pcr-policies/boot-3.json', { custom: { type: PCR_POLICY_TYPE, generation: 3 } });
    put('boot', 'pcr-policies/outside.json', {}); // outside the boot role's paths: not vouched for
    put('targets', 'pcr-policies/nested/4.json', {});
    put('targets', 'pcr-policies/big.json', { length: 5000 });
    put('targets', 'pcr-policies/nohash.json', { hashes: { sha512: sha } });
    put('targets', 'pcr-policies/nogen.json', { custom: { type: PCR_POLICY_TYPE } });
    repo.sign(T0);
    const trusted = loadTrustedMetadata(publishedFiles(repo), { now: T0, expiry: 'enforce' });
    const named = namedPcrPolicies(trusted, T0);
    expect(named.policies.map((p) => [p.name, p.file, p.generation, p.length, p.sha256])).to.deep.equal([
      ['pcr-policies/2.json', '2.json', 2, 900, sha],
      ['pcr-policies/boot-3.json', 'boot-3.json', 3, 900, sha],
    ]);
    expect(named.rejected.map((r) => [r.name, r.code])).to.deep.equal([
      ['pcr-policies/big.json', 'OVERSIZED'],
      ['pcr-policies/nested/4.json', 'MALFORMED_METADATA'],
      ['pcr-policies/nogen.json', 'MALFORMED_METADATA'],
      ['pcr-policies/nohash.json', 'MALFORMED_METADATA'],
    ]);
  });
});
