import { expect } from 'chai';
import { compareSemVer, parseSemVer } from '../../src/core/semver.js';
import { expectCode } from '../helpers/expect-code.js';

describe('semver', () => {
  it('orders versions by semver.org precedence', () => {
    const sorted = ['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0', '1.0.1', '1.10.0', '2.0.0'];
    for (let i = 0; i + 1 < sorted.length; i++) {
      expect(compareSemVer(sorted[i], sorted[i + 1]), `${sorted[i]} < ${sorted[i + 1]}`).to.equal(-1);
      expect(compareSemVer(sorted[i + 1], sorted[i])).to.equal(1);
    }
    expect(compareSemVer('1.2.3+build.7', '1.2.3')).to.equal(0);
  });

  it('rejects what is not a version', () => {
    for (const bad of ['1.2', '01.2.3', 'v1.2.3', '1.2.3-', '', '1.2.3.4']) expectCode(() => parseSemVer(bad), 'MALFORMED_METADATA');
  });
});
