import { expect } from 'chai';
import { Scheduler } from '../../src/agent/scheduler.js';
import { expectCode } from '../helpers/expect-code.js';

describe('agent scheduler', function () {
  this.timeout(10_000);

  it('delays each cron tick by random() × jitter, runs jobs one at a time, and aborts the running one on stop', async () => {
    const delays: number[] = [];
    const log: string[] = [];
    let release: () => void = () => undefined;
    const s = new Scheduler({
      random: () => 0.25,
      setTimeout: (fn, ms) => {
        delays.push(ms);
        return setTimeout(fn, 0); // jitter recorded, not slept
      },
      clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
      onError: (job, err) => log.push(`${job} failed: ${(err as Error).message}`),
      onCoalesced: () => undefined,
    });
    let aborted: AbortSignal | undefined;
    s.add({
      name: 'slow',
      cron: '* * * * * *', // every second (the optional seconds field)
      jitterSeconds: 8,
      run: (signal) =>
        new Promise<void>((resolve) => {
          log.push('slow start');
          aborted = signal;
          release = resolve;
          signal.addEventListener('abort', () => resolve());
        }),
    });
    for (let i = 0; i < 300 && !log.length; i++) await new Promise((r) => setTimeout(r, 10));
    expect(delays[0]).to.equal(2000);
    expect(s.nextRuns().slow).to.match(/^\d{4}-/);
    const queued = s.runNow({ name: 'quick', cron: '0 0 * * *', jitterSeconds: 0, run: () => Promise.resolve(void log.push('quick')) });
    expect(log).to.deep.equal(['slow start'], 'the nudged job waits for the running one');
    await s.stop();
    await queued;
    expect(aborted?.aborted).to.equal(true);
    expect(log).to.deep.equal(['slow start']);
    release();
  });

  it('retries a failed job with growing jittered delays, and resets after a success', async () => {
    const delays: number[] = [];
    const s = new Scheduler({
      random: () => 0.5,
      setTimeout: (_fn, ms) => delays.push(ms), // armed retries recorded, never fired
      clearTimeout: () => undefined,
      onError: () => undefined,
      onCoalesced: () => undefined,
    });
    const answers: ('retry' | 'throw' | 'ok')[] = ['retry', 'throw', 'ok', 'retry'];
    const job = {
      name: 'revocation-refresh',
      cron: '0 0 * * *',
      jitterSeconds: 0,
      backoff: { baseMs: 1000, maxMs: 1500 },
      run: (): Promise<void | 'retry'> => {
        const a = answers.shift();
        return a === 'throw' ? Promise.reject(new Error('mirror down')) : Promise.resolve(a === 'retry' ? 'retry' : undefined);
      },
    };
    for (let i = 0; i < 4; i++) await s.runNow(job);
    // window 1000 → 500 + 0.5×500; then 2000 capped at 1500 → 750 + 0.5×750; success arms nothing and
    // resets, so the next failure starts from the base delay again
    expect(delays).to.deep.equal([750, 1125, 750]);
    await s.stop();
  });

  it('coalesces a run asked for while the same job is queued or running; the next request after it runs again', async () => {
    const coalesced: string[] = [];
    const s = new Scheduler({ random: () => 0, setTimeout: () => undefined, clearTimeout: () => undefined, onError: () => undefined, onCoalesced: (job) => coalesced.push(job) });
    const releases: (() => void)[] = [];
    const runs: string[] = [];
    const job = (name: string) => ({ name, cron: '0 0 * * *', jitterSeconds: 0, run: () => new Promise<void>((resolve) => (runs.push(name), releases.push(resolve))) });
    const update = job('update');
    const first = s.runNow(update); // running
    const refresh = s.runNow(job('revocation-refresh')); // queued behind it
    const nudges = Array.from({ length: 50 }, () => s.runNow(update));
    const queuedNudge = s.runNow(job('revocation-refresh'));
    await new Promise((r) => setImmediate(r));
    expect(runs).to.deep.equal(['update']);
    expect(coalesced).to.deep.equal([...Array<string>(50).fill('update'), 'revocation-refresh']);
    expect(nudges.every((p) => p === first) && queuedNudge === refresh, 'a coalesced request resolves with the run it joined').to.equal(true);
    releases.shift()?.();
    await first;
    await new Promise((r) => setImmediate(r));
    expect(runs).to.deep.equal(['update', 'revocation-refresh']);
    const again = s.runNow(update); // update is no longer in flight: queued behind the refresh
    expect(again).to.not.equal(first);
    releases.shift()?.();
    await refresh;
    await new Promise((r) => setImmediate(r));
    releases.shift()?.();
    await again;
    expect(runs).to.deep.equal(['update', 'revocation-refresh', 'update']);
    expect(coalesced).to.have.length(51);
    await s.stop();
  });

  it('refuses a schedule that is not a cron expression', () => {
    const s = new Scheduler({ random: Math.random, setTimeout: () => undefined, clearTimeout: () => undefined, onError: () => undefined, onCoalesced: () => undefined });
    expectCode(() => s.add({ name: 'update', cron: 'hourly', jitterSeconds: 0, run: () => Promise.resolve() }), 'CONFIG_INVALID');
  });
});
