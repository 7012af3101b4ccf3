import { expect } from 'chai';
import { toGateCandidates, toInstallTarget } from '../../src/ota/candidates.js';
import type { ListedTarget } from '../../src/tuf/offline/types.js';

const custom = { hardwareIds: ['board-a'], version: '1.0.0', securityVersion: 1, kind: 'firmware' } as const;
const listed = (name: string, hashes: Record<string, string>): ListedTarget => ({ name, length: 10, hashes, custom, signedBy: { role: 'targets', keyids: ['k1'] } });

describe('toGateCandidates', () => {
  it('keeps targets with a sha256 (lower-cased) and lists those without one as unverifiable', () => {
    const { candidates, unverifiable } = toGateCandidates([
      listed('a.bin', { sha256: 'AB'.repeat(32), sha512: 'cd'.repeat(64) }),
      listed('b.bin', { sha512: 'cd'.repeat(64) }),
      listed('c.bin', { sha256: 'not-hex' }),
    ]);
    expect(candidates).to.deep.equal([{ name: 'a.bin', length: 10, sha256: 'ab'.repeat(32), custom, signedBy: { role: 'targets', keyids: ['k1'] } }]);
    expect(unverifiable).to.deep.equal(['b.bin', 'c.bin']);
  });

  it('turns the chosen candidate into the install journal\'s target', () => {
    const [c] = toGateCandidates([listed('a.bin', { sha256: 'ab'.repeat(32) })]).candidates;
    expect(toInstallTarget(c)).to.deep.equal({ name: 'a.bin', length: 10, sha256: 'ab'.repeat(32), version: '1.0.0', securityVersion: 1 });
  });
});
