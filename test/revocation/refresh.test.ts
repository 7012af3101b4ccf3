import { expect } from 'chai';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EdgesealError } from '../../src/core/errors.js';
import { RevocationCache } from '../../src/revocation/cache.js';
import { RevocationRefresher, type FetchVerifiedList, type RefreshOutcome, type Timers } from '../../src/revocation/refresh.js';
import { at, makeList, signedBytes } from './make-list.js';

// Fake clock and timers: time moves only when the test says so.
function fakeTime(start: string): { clock: () => Date; timers: Timers; advance(ms: number): void; fireEarly(): void; pending(): number[] } {
  let now = at(start).getTime();
  let armed: { fn: () => void; due: number; id: number }[] = [];
  let next = 0;
  return {
    clock: () => new Date(now),
    timers: {
      setTimeout: (fn, ms) => (armed.push({ fn, due: now + ms, id: ++next }), next),
      clearTimeout: (id) => (armed = armed.filter((t) => t.id !== id)),
    },
    advance(ms) {
      now += ms;
      const due = armed.filter((t) => t.due <= now);
      armed = armed.filter((t) => t.due > now);
      due.forEach((t) => t.fn());
    },
    // Runs every armed timer without moving the wall clock (a monotonic timer firing "early").
    fireEarly() {
      const due = armed;
      armed = [];
      due.forEach((t) => t.fn());
    },
    pending: () => armed.map((t) => t.due - now),
  };
}

describe('RevocationRefresher', () => {
  it('stores a fetched list; failures keep the cached one, back off, and retry on a timer', async () => {
    const t = fakeTime('2026-01-10T00:00:00Z');
    const cache = await RevocationCache.open({ stateDir: await mkdtemp(join(tmpdir(), 'es-revref-')), graceDays: 7 });
    let serve: FetchVerifiedList = () => Promise.resolve(signedBytes(makeList({ version: 1 })));
    let retried: (o: RefreshOutcome) => void = () => undefined;
    const retry = new Promise<RefreshOutcome>((resolve) => (retried = resolve));
    const r = new RevocationRefresher({ cache, fetchVerified: () => serve(), clock: t.clock, timers: t.timers, random: () => 0, backoff: { baseMs: 1000, maxMs: 60_000 }, onRetryOutcome: (o) => retried(o) });

    expect(await r.refresh()).to.deep.equal({ ok: true, version: 1, changed: true });
    serve = () => Promise.reject(new Error('connection refused'));
    const first = await r.refresh();
    expect(first.ok === false && first.error.code).to.equal('FETCH_FAILED');
    expect(first.ok === false && first.failures).to.equal(1);
    expect(t.pending()).to.deep.equal([500]);
    expect(cache.status(t.clock()).version).to.equal(1);

    // A scheduled call during the backoff is skipped; a forced one goes through.
    expect((await r.refresh()).ok).to.equal('skipped');
    const forced = await r.refresh({ force: true });
    expect(forced.ok === false && forced.failures).to.equal(2);
    expect(t.pending()).to.deep.equal([1000]);

    // The retry timer fires after the backoff and succeeds; no further timer stays armed.
    serve = () => Promise.resolve(signedBytes(makeList({ version: 2 })));
    t.advance(999);
    expect(t.pending()).to.deep.equal([1]);
    t.advance(1);
    expect(await retry).to.deep.equal({ ok: true, version: 2, changed: true });
    expect(t.pending()).to.deep.equal([]);
    expect(cache.status(t.clock()).version).to.equal(2);
  });

  it('a retry timer that fires early by the wall clock still retries', async () => {
    const t = fakeTime('2026-01-10T00:00:00Z');
    const cache = await RevocationCache.open({ stateDir: await mkdtemp(join(tmpdir(), 'es-revref-')), graceDays: 7 });
    let fail = true;
    let retried: (o: RefreshOutcome) => void = () => undefined;
    const retry = new Promise<RefreshOutcome>((resolve) => (retried = resolve));
    const fetchVerified: FetchVerifiedList = () => (fail ? Promise.reject(new Error('offline')) : Promise.resolve(signedBytes(makeList())));
    const r = new RevocationRefresher({ cache, fetchVerified, clock: t.clock, timers: t.timers, onRetryOutcome: (o) => retried(o) });
    expect((await r.refresh()).ok).to.equal(false);
    fail = false;
    t.fireEarly();
    expect(await retry).to.deep.equal({ ok: true, version: 1, changed: true });
  });

  it('a list the store refuses counts as a failure with its own code', async () => {
    const t = fakeTime('2026-01-10T00:00:00Z');
    const cache = await RevocationCache.open({ stateDir: await mkdtemp(join(tmpdir(), 'es-revref-')), graceDays: 7 });
    const r = new RevocationRefresher({ cache, fetchVerified: () => Promise.resolve(signedBytes(makeList({ expires: '2026-01-05T00:00:00Z' }))), clock: t.clock, timers: t.timers });
    const o = await r.refresh();
    expect(o.ok === false && o.error.code).to.equal('EXPIRED');
    r.stop();
    expect(t.pending()).to.deep.equal([]);
  });

  it('concurrent triggers share one attempt', async () => {
    const t = fakeTime('2026-01-10T00:00:00Z');
    const cache = await RevocationCache.open({ stateDir: await mkdtemp(join(tmpdir(), 'es-revref-')), graceDays: 7 });
    let calls = 0;
    const fetchVerified: FetchVerifiedList = () => {
      calls += 1;
      return calls > 1 ? Promise.reject(new EdgesealError('INTERNAL', 'second fetch')) : Promise.resolve(signedBytes(makeList()));
    };
    const r = new RevocationRefresher({ cache, fetchVerified, clock: t.clock, timers: t.timers });
    const [a, b] = await Promise.all([r.refresh(), r.refresh({ force: true })]);
    expect(a).to.deep.equal(b);
    expect(calls).to.equal(1);
  });
});
