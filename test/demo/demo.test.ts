import { expect } from 'chai';
import { runCli } from '../agent/cli-child.js';

describe('edgeseal demo (the newcomer first run)', function () {
  this.timeout(60_000);

  it('provisions a swtpm, boot-checks, updates A → B, commits with floors raised, refuses a tampered and a revoked release, in well under a minute', async () => {
    const t0 = Date.now();
    const r = await runCli(['demo']);
    expect(r.code, r.err).to.equal(0);
    expect(Date.now() - t0).to.be.below(60_000);
    const out = r.out;
    for (const expected of [
      '✔ boot verified',
      'staged into slot B; trial boot armed',
      'TPM floors: securityVersion 0, rootVersion 1, targetsVersion 1  (securityVersion unchanged', // root and targets floors follow the refresh
      '✔ boot committed',
      'TPM floors: securityVersion 2, rootVersion 1, targetsVersion 1',
      '✘ refused [DIGEST_MISMATCH]',
      'TUF metadata cached; revocation list v1',
      '✘ refused [IMAGE_REVOKED] fw/board-a/firmware-1.2.0.bin',
      'revocation list: v2, 1 image(s) revoked (fresh); TPM floor revocationVersion 2',
      'every signature verified',
    ]) {
      expect(out).to.contain(expected);
    }
    // every capability works: no event reports the demo's own gaps (once: NO REVOCATION LIST published, twice)
    expect(out).not.to.match(/revocation-refresh\s+(error|info)/);
    expect(out).not.to.contain('NO REVOCATION LIST');
    expect(out).to.match(/update-decision\s+refused\s+IMAGE_REVOKED\s+fw\/board-a\/firmware-1\.2\.0\.bin/);
    expect(out.indexOf('[DIGEST_MISMATCH]')).to.be.lessThan(out.indexOf('[IMAGE_REVOKED]'));
    expect(out.indexOf('✔ boot committed')).to.be.lessThan(out.indexOf('TPM floors: securityVersion 2'));
  });

  it('says how to install swtpm when it is missing (exit 3, no stack trace)', async () => {
    const r = await runCli(['demo'], { PATH: '/nonexistent' });
    expect(r.code).to.equal(3);
    expect(r.err).to.contain('[TPM_UNREACHABLE]').and.contain('apt-get install swtpm');
    expect(r.err).not.to.contain('    at ');
  });
});
