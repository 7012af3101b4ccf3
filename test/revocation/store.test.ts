import { expect } from 'chai';
import { RevocationStore } from '../../src/revocation/store.js';
import { expectCode } from '../helpers/expect-code.js';
import { at, KEY_A, makeList, signedBytes } from './make-list.js';

const NOW = at('2026-01-10T00:00:00Z');

describe('RevocationStore', () => {
  it('starts with no list and reports never', () => {
    const s = new RevocationStore({ graceDays: 7 });
    expect(s.current(NOW)).to.include({ state: 'never', version: undefined, highestVersion: 0 });
  });

  it('accepts a list whose bytes match the TUF-verified info and reports it fresh', () => {
    const s = new RevocationStore({ graceDays: 7 });
    const { bytes, info } = signedBytes(makeList({ version: 3, keys: [{ keyid: KEY_A }] }));
    s.update(bytes, info, NOW);
    const cur = s.current(NOW);
    expect(cur).to.include({ state: 'fresh', version: 3, highestVersion: 3, ageDays: 9 });
    expect(cur.list?.keys).to.deep.equal([{ keyid: KEY_A }]);
  });

  it('moves from fresh to stale at expires and to expired after the grace period', () => {
    const s = new RevocationStore({ graceDays: 7 });
    const { bytes, info } = signedBytes(makeList());
    s.update(bytes, info, NOW);
    expect(s.current(at('2026-01-31T23:59:59Z')).state).to.equal('fresh');
    expect(s.current(at('2026-02-01T00:00:00Z')).state).to.equal('stale');
    expect(s.current(at('2026-02-07T23:59:59Z')).state).to.equal('stale');
    expect(s.current(at('2026-02-08T00:00:00Z')).state).to.equal('expired');
  });

  it('rejects bytes that do not match the TUF-verified length or digest, keeping the previous list', () => {
    const s = new RevocationStore({ graceDays: 7 });
    const good = signedBytes(makeList({ version: 1 }));
    s.update(good.bytes, good.info, NOW);
    const forged = signedBytes(makeList({ version: 2, keys: [{ keyid: KEY_A }] }));
    expectCode(() => s.update(forged.bytes, good.info, NOW), 'LENGTH_MISMATCH');
    const sameLength = forged.bytes.slice();
    sameLength[sameLength.length - 2] ^= 1;
    expectCode(() => s.update(sameLength, forged.info, NOW), 'DIGEST_MISMATCH');
    expect(s.current(NOW).version).to.equal(1);
  });

  it('compares digests whatever hex case the TUF metadata uses', () => {
    const s = new RevocationStore({ graceDays: 7 });
    const { bytes, info } = signedBytes(makeList());
    expect(s.update(bytes, { ...info, sha256: info.sha256.toUpperCase() }, NOW).version).to.equal(1);
    expect(s.state().accepted?.info.sha256).to.equal(info.sha256);
  });

  it('a different list under the held version is ROLLBACK, unless the caller authenticated it from the pinned root (supersede); the held sha256 is reported', () => {
    const s = new RevocationStore({ graceDays: 7 });
    const forged = signedBytes(makeList({ version: 2, expires: '2099-01-01T00:00:00Z' }));
    const genuine = signedBytes(makeList({ version: 2, keys: [{ keyid: KEY_A }] }));
    s.update(forged.bytes, forged.info, NOW);
    expect(s.current(NOW).sha256).to.equal(forged.info.sha256);
    expectCode(() => s.update(genuine.bytes, genuine.info, NOW), 'ROLLBACK');
    s.update(genuine.bytes, genuine.info, NOW, { supersede: true });
    expect(s.current(NOW)).to.include({ version: 2, sha256: genuine.info.sha256 });
    const older = signedBytes(makeList({ version: 1 }));
    expectCode(() => s.update(older.bytes, older.info, NOW, { supersede: true }), 'ROLLBACK');
  });

  it('rejects an older list replayed (ROLLBACK) and keeps the newer one', () => {
    const s = new RevocationStore({ graceDays: 7 });
    const v1 = signedBytes(makeList({ version: 1 }));
    const v2 = signedBytes(makeList({ version: 2, keys: [{ keyid: KEY_A }] }));
    s.update(v2.bytes, v2.info, NOW);
    expectCode(() => s.update(v1.bytes, v1.info, NOW), 'ROLLBACK');
    expect(s.current(NOW).version).to.equal(2);
  });

  it('accepts the same list again but rejects different content under the same version', () => {
    const s = new RevocationStore({ graceDays: 7 });
    const a = signedBytes(makeList({ version: 2 }));
    const b = signedBytes(makeList({ version: 2, keys: [{ keyid: KEY_A }] }));
    s.update(a.bytes, a.info, NOW);
    expect(s.update(a.bytes, a.info, NOW).version).to.equal(2);
    expectCode(() => s.update(b.bytes, b.info, NOW), 'ROLLBACK');
    expect(s.current(NOW).list?.keys).to.deep.equal([]);
  });

  it('rejects an expired list', () => {
    const s = new RevocationStore({ graceDays: 7 });
    const { bytes, info } = signedBytes(makeList());
    expectCode(() => s.update(bytes, info, at('2026-02-01T00:00:00Z')), 'EXPIRED');
    expect(s.current(NOW).state).to.equal('never');
  });

  it('rejects malformed content even when TUF vouches for the bytes', () => {
    const s = new RevocationStore({ graceDays: 7 });
    const { bytes, info } = signedBytes({ ...makeList(), version: -1 });
    expectCode(() => s.update(bytes, info, NOW), 'MALFORMED_METADATA');
  });

  it('restores from its persisted state and still rejects rollback', () => {
    const first = new RevocationStore({ graceDays: 7 });
    const v2 = signedBytes(makeList({ version: 2, keys: [{ keyid: KEY_A }] }));
    first.update(v2.bytes, v2.info, NOW);
    const again = new RevocationStore({ graceDays: 7 }, first.state());
    expect(again.current(NOW)).to.include({ state: 'fresh', version: 2 });
    const v1 = signedBytes(makeList({ version: 1 }));
    expectCode(() => again.update(v1.bytes, v1.info, NOW), 'ROLLBACK');
  });

  it('detects persisted bytes that no longer match their recorded digest', () => {
    const v2 = signedBytes(makeList({ version: 2 }));
    const bytes = v2.bytes.slice();
    bytes[10] ^= 1;
    expectCode(() => new RevocationStore({ graceDays: 7 }, { highestVersion: 2, accepted: { bytes, info: v2.info } }), 'STORAGE_ERROR');
  });

  it('detects persisted bytes swapped for another well-formed list (e.g. a revocation removed)', () => {
    const real = signedBytes(makeList({ version: 2, keys: [{ keyid: KEY_A }] }));
    const swapped = signedBytes(makeList({ version: 2 }));
    expectCode(() => new RevocationStore({ graceDays: 7 }, { highestVersion: 2, accepted: { bytes: swapped.bytes, info: real.info } }), 'STORAGE_ERROR');
  });

  it('honours an external floor: a cache older than the floor is a rollback, a list below it is refused', () => {
    const v2 = signedBytes(makeList({ version: 2 }));
    expectCode(() => new RevocationStore({ graceDays: 7, floorVersion: 5 }, { highestVersion: 2, accepted: v2 }), 'ROLLBACK');
    const s = new RevocationStore({ graceDays: 7, floorVersion: 5 });
    expectCode(() => s.update(v2.bytes, v2.info, NOW), 'ROLLBACK');
    const v5 = signedBytes(makeList({ version: 5 }));
    expect(s.update(v5.bytes, v5.info, NOW).version).to.equal(5);
  });

  it('refuses a negative grace period', () => {
    expectCode(() => new RevocationStore({ graceDays: -1 }), 'CONFIG_INVALID');
  });
});
