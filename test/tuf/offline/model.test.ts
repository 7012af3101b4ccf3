import { Targets as ModelsTargets } from '@tufjs/models';
import { DelegatedRole, SuccinctRoles as ModelsBins } from '@tufjs/models/dist/role.js';
import { expect } from 'chai';
import { metadataFromJSON } from '../../../src/tuf/offline/from-json.js';
import { binForTarget, isDelegatedPath, isDelegatedRole, isExpired, rolesForTarget, type Targets } from '../../../src/tuf/offline/model.js';
import { Rng } from '../../fuzz/mutator.js';

// The behaviour @tufjs/models' classes carry as methods, as our pure functions compute it: which role a
// target belongs to (paths, path hash prefixes, hash bins), which names are bins, when metadata expires.
// tuf-js walks delegations with those methods, so the offline walk must give the same answers.

const CHARS = ['a', 'b', '/', '.', '-', 'é', '\ud800', '\u{1f600}', '0'];
const randomPath = (rng: Rng): string => Array.from({ length: rng.int(12) }, () => rng.pick(CHARS)).join('');
const HEX = '0123456789abcdefABCDEF';
const randomHex = (rng: Rng, n: number): string => Array.from({ length: n }, () => HEX[rng.int(rng.chance(0.9) ? 16 : HEX.length)]).join('');

function targetsWith(delegations: unknown): { ours: Targets; theirs: ModelsTargets } {
  const signed = { _type: 'targets', spec_version: '1.0.31', version: 1, expires: '2030-01-01T00:00:00Z', targets: {}, delegations };
  return { ours: metadataFromJSON('targets', { signed, signatures: [] }).signed, theirs: ModelsTargets.fromJSON(signed as Parameters<typeof ModelsTargets.fromJSON>[0]) };
}

describe('tuf/offline model functions against @tufjs/models methods', () => {
  it('hash bins: the bin of a target and the names that are bins, for bit lengths 1 to 32', () => {
    const rng = new Rng(5);
    for (const bitLength of [1, 2, 3, 4, 5, 8, 10, 13, 16, 20, 31, 32]) {
      const { ours } = targetsWith({ keys: {}, succinct_roles: { keyids: [], threshold: 1, bit_length: bitLength, name_prefix: 'bins' } });
      const bins = ours.delegations!.succinctRoles!;
      const theirs = new ModelsBins({ keyIDs: [], threshold: 1, bitLength, namePrefix: 'bins' });
      expect([bins.numberOfBins, bins.suffixLen]).to.deep.equal([theirs.numberOfBins, theirs.suffixLen]);
      for (let i = 0; i < 500; i++) {
        const path = randomPath(rng);
        expect(binForTarget(bins, path), path).to.equal(theirs.getRoleForTarget(path));
        const name = rng.chance(0.8) ? `bins-${randomHex(rng, theirs.suffixLen + rng.int(3) - 1)}` : `${rng.pick(['bins', 'bin', 'bins-', ''])}-${randomHex(rng, 2)}`;
        expect(isDelegatedRole(bins, name), name).to.equal(theirs.isDelegatedRole(name));
      }
    }
  });

  it('path hash prefixes: a target belongs to the role when the sha256 of its path starts with a prefix', () => {
    const rng = new Rng(6);
    let hits = 0;
    for (let i = 0; i < 3_000; i++) {
      const prefixes = Array.from({ length: 1 + rng.int(3) }, () => randomHex(rng, rng.int(3)));
      const theirs = new DelegatedRole({ name: 'r', keyIDs: [], threshold: 1, terminating: false, pathHashPrefixes: prefixes });
      const path = randomPath(rng);
      const expected = theirs.isDelegatedPath(path);
      expect(isDelegatedPath({ pathHashPrefixes: prefixes }, path), `${path} ${prefixes.join(',')}`).to.equal(expected);
      if (expected) hits++;
    }
    expect(hits).to.be.above(300);
  });

  it('rolesForTarget: the same roles in the same order, terminating flags included', () => {
    // integer-like names come first in a JavaScript object whatever the listed order: tuf-js walks them so, and so must we
    const roles = [
      { name: 'b', keyids: [], threshold: 1, terminating: false, paths: ['a/*'] },
      { name: '10', keyids: [], threshold: 1, terminating: true, paths: ['*/b', 'a/?'] },
      { name: 'a', keyids: [], threshold: 1, terminating: false, path_hash_prefixes: ['', '0'] },
      { name: '2', keyids: [], threshold: 1, terminating: false, paths: ['a/{b,c}', '**/*'] },
    ];
    const { ours, theirs } = targetsWith({ keys: {}, roles });
    const rng = new Rng(7);
    for (let i = 0; i < 2_000; i++) {
      const path = randomPath(rng);
      expect(rolesForTarget(ours.delegations!, path), path).to.deep.equal([...theirs.delegations!.rolesForTarget(path)]);
    }
    expect(rolesForTarget(ours.delegations!, 'a/b').map((r) => r.role)).to.deep.equal(['2', '10', 'b', 'a']);
  });

  it('isExpired: at and after the instant expires names, as new Date(expires) reads it', () => {
    const now = new Date('2030-01-01T00:00:00Z');
    for (const expires of ['2030-01-01T00:00:00Z', '2030-01-01T00:00:01Z', '2029-12-31T23:59:59Z', '2030-01-01T00:00:00.001Z', '2030-01-01', '2030', 'Jan 2 2030']) {
      const signed = { _type: 'targets', spec_version: '1.0.31', version: 1, expires, targets: {} };
      expect(isExpired(metadataFromJSON('targets', { signed, signatures: [] }).signed, now), expires).to.equal(ModelsTargets.fromJSON(signed).isExpired(now));
    }
  });
});
