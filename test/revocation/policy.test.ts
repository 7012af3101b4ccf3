import { expect } from 'chai';
import { checkRevocation, decideFreshness, DEFAULT_FRESHNESS_POLICY, compilePatterns, type FreshnessPolicy } from '../../src/revocation/policy.js';
import { RevocationStore, type RevocationStatus } from '../../src/revocation/store.js';
import { at, BAD_DIGEST, KEY_A, KEY_B, makeList, signedBytes } from './make-list.js';

const subject = { targetName: 'firmware/board-a/fw.bin', sha256: 'e'.repeat(64), version: '1.4.0', hardwareId: 'board-a', keyids: [KEY_A] };

function statusAt(iso: string | undefined): RevocationStatus {
  const s = new RevocationStore({ graceDays: DEFAULT_FRESHNESS_POLICY.graceDays });
  if (iso) {
    const { bytes, info } = signedBytes(makeList({ version: 7 }));
    s.update(bytes, info, at('2026-01-02T00:00:00Z'));
  }
  return s.current(at(iso ?? '2026-01-02T00:00:00Z'));
}

describe('checkRevocation', () => {
  it('passes an image nothing revokes', () => {
    expect(checkRevocation(makeList({ keys: [{ keyid: KEY_B }], digests: [{ sha256: BAD_DIGEST }] }), subject)).to.equal(undefined);
  });

  it('refuses an image signed only by a revoked key, naming the key, reason and reference', () => {
    const err = checkRevocation(makeList({ version: 3, keys: [{ keyid: KEY_A, reason: 'leaked', reference: 'INC-7' }] }), subject);
    expect(err?.code).to.equal('KEY_REVOKED');
    expect(err?.message).to.contain(KEY_A).and.contain('leaked').and.contain('INC-7').and.contain('version 3');
  });

  it('with the threshold known, a revoked key only refuses when the unrevoked signatures fall below it', () => {
    const list = makeList({ keys: [{ keyid: KEY_A }] });
    expect(checkRevocation(list, { ...subject, keyids: [KEY_A, KEY_B], threshold: 1 })).to.equal(undefined);
    expect(checkRevocation(list, { ...subject, keyids: [KEY_A, KEY_B], threshold: 2 })?.code).to.equal('KEY_REVOKED');
    // Without the threshold, any revoked signer refuses (fail closed).
    expect(checkRevocation(list, { ...subject, keyids: [KEY_A, KEY_B] })?.code).to.equal('KEY_REVOKED');
  });

  it('refuses a revoked digest whatever case the caller uses', () => {
    const err = checkRevocation(makeList({ digests: [{ sha256: BAD_DIGEST, reason: 'bricks board-a' }] }), { ...subject, sha256: BAD_DIGEST.toUpperCase() });
    expect(err?.code).to.equal('IMAGE_REVOKED');
    expect(err?.message).to.contain('bricks board-a');
  });

  it('refuses a version below the minimum for a matching target and hardware id only', () => {
    const min = (target: string, hardwareId?: string): ReturnType<typeof makeList> =>
      makeList({ minimumVersions: [{ target, version: '1.5.0', reason: 'CVE-2026-9', ...(hardwareId ? { hardwareId } : {}) }] });
    const err = checkRevocation(min('firmware/board-a/*'), subject);
    expect(err?.code).to.equal('BELOW_MINIMUM_VERSION');
    expect(err?.message).to.contain('1.5.0').and.contain('CVE-2026-9');
    expect(checkRevocation(min('firmware/board-a/fw.bin', 'board-a'), subject)?.code).to.equal('BELOW_MINIMUM_VERSION');
    expect(checkRevocation(min('firmware/board-a/fw.bin', 'board-b'), subject)).to.equal(undefined);
    expect(checkRevocation(min('firmware/board-b/*'), subject)).to.equal(undefined);
    expect(checkRevocation(min('firmware/*'), subject)).to.equal(undefined);
    expect(checkRevocation(min('firmware/board-a/*'), { ...subject, version: '1.5.0' })).to.equal(undefined);
  });

  it('matches patterns like TUF delegation paths', () => {
    const cases: [string, string, boolean][] = [
      ['a/*.bin', 'a/fw.bin', true],
      ['a/*.bin', 'a/b/fw.bin', false],
      ['a/fw-?.bin', 'a/fw-1.bin', true],
      ['a/fw.bin', 'a/fwxbin', false],
      ['a/fw-[ab].bin', 'a/fw-b.bin', true],
      ['a/fw-[ab].bin', 'a/fw-c.bin', false],
    ];
    const matchers = compilePatterns(cases.map(([p]) => p));
    cases.forEach(([pattern, name, expected], i) => expect(matchers[i](name), `${pattern} vs ${name}`).to.equal(expected));
    expect(compilePatterns([])).to.deep.equal([]);
  });
});

describe('decideFreshness', () => {
  it('fresh: both boot and update proceed quietly', () => {
    for (const op of ['boot', 'update'] as const) expect(decideFreshness(statusAt('2026-01-10T00:00:00Z'), op)).to.include({ proceed: true, level: 'ok' });
  });

  it('stale (within grace): both proceed with a warning', () => {
    for (const op of ['boot', 'update'] as const) expect(decideFreshness(statusAt('2026-02-03T00:00:00Z'), op)).to.include({ proceed: true, level: 'warn', state: 'stale' });
  });

  it('expired beyond grace, defaults: updates blocked with REVOCATION_STALE, boot continues with an alarm', () => {
    const status = statusAt('2026-03-01T00:00:00Z');
    const update = decideFreshness(status, 'update');
    expect(update.proceed).to.equal(false);
    expect(update.proceed === false && update.error.code).to.equal('REVOCATION_STALE');
    expect(decideFreshness(status, 'boot')).to.include({ proceed: true, level: 'alarm', state: 'expired' });
  });

  it('expired beyond grace, overridden: updates may proceed with a warning, boot may block', () => {
    const policy: FreshnessPolicy = { ...DEFAULT_FRESHNESS_POLICY, onExpired: { update: 'allow-with-warning', boot: 'block' } };
    const status = statusAt('2026-03-01T00:00:00Z');
    expect(decideFreshness(status, 'update', policy)).to.include({ proceed: true, level: 'warn' });
    const boot = decideFreshness(status, 'boot', policy);
    expect(boot.proceed === false && boot.error.code).to.equal('REVOCATION_STALE');
  });

  it('never fetched: the default (allow) lets updates proceed with a warning; require blocks updates but not boot', () => {
    const never = statusAt(undefined);
    expect(DEFAULT_FRESHNESS_POLICY.onNever).to.equal('allow');
    expect(decideFreshness(never, 'update')).to.include({ proceed: true, level: 'warn', state: 'never' });
    expect(decideFreshness(never, 'boot')).to.include({ proceed: true, level: 'warn' });
    const require: FreshnessPolicy = { ...DEFAULT_FRESHNESS_POLICY, onNever: 'require' };
    const update = decideFreshness(never, 'update', require);
    expect(update.proceed === false && update.error.code).to.equal('REVOCATION_STALE');
    expect(decideFreshness(never, 'boot', require)).to.include({ proceed: true, level: 'alarm' });
  });
});
