import { expect } from 'chai';
import { loadTrustedMetadata } from '../../../src/tuf/offline/load-trusted.js';
import type { MetadataFiles } from '../../../src/tuf/offline/types.js';
import { verifyImage } from '../../../src/tuf/offline/verify-image.js';
import { addImage, after, customFor, imageOf, newRepo, publishedFiles, resign, sha256Hex } from '../../helpers/tuf-repo.js';

// Fuzz finding (issue 10 part I): key ids and target names come from signed input, so a lookup by
// them must never reach Object.prototype members (`constructor`, `toString`, `__proto__`).

const now = after(0.5);
const FW = 'firmware/board-a/fw.bin';
const fw = imageOf('fw', 2048);
const INHERITED = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'];

function published(): { files: MetadataFiles; rootKeys: ReturnType<typeof newRepo>['keys']['root'] } {
  const { repo, keys } = newRepo();
  addImage(repo, FW, fw, customFor());
  repo.sign(after(0));
  return { files: publishedFiles(repo), rootKeys: keys.root };
}

describe('tuf/offline lookups by keys that come from input', () => {
  it('a validly signed root naming key ids `constructor` / `__proto__` verifies (those ids just never count)', () => {
    const { files, rootKeys } = published();
    const initialRoot = resign(
      files.initialRoot,
      (s) => {
        const roles = s.roles as Record<string, { keyids: string[] }>;
        for (const role of Object.values(roles)) role.keyids.push('constructor', '__proto__', 'toString');
      },
      rootKeys,
    );
    const trusted = loadTrustedMetadata({ ...files, initialRoot }, { now, expiry: 'enforce' });
    expect(trusted.root.signed.roles.root.keyIDs).to.include('constructor');
    expect(verifyImage(trusted, { targetName: FW, observed: { length: fw.length, sha256: sha256Hex(fw) }, hardwareId: 'board-a', now }).ok).to.equal(true);
  });

  it('target names that are Object.prototype members are UNKNOWN_TARGET, not prototype functions', () => {
    const trusted = loadTrustedMetadata(published().files, { now, expiry: 'enforce' });
    for (const name of INHERITED) {
      const v = verifyImage(trusted, { targetName: name, observed: { length: 1, sha256: '00'.repeat(32) }, hardwareId: 'board-a', now });
      expect(v.ok ? 'VERIFIED' : v.code, name).to.equal('UNKNOWN_TARGET');
    }
  });
});
