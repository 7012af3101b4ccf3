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
    });
    let aborted: AbortSignal | undefined;
    s.add({
      name: 'slow',
      cron: '* * * * * *', // every second (node-cron seconds field)
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

  it('refuses a schedule that is not a cron expression', () => {
    const s = new Scheduler({ random: Math.random, setTimeout: () => undefined, clearTimeout: () => undefined, onError: () => undefined });
    expectCode(() => s.add({ name: 'update', cron: 'hourly', jitterSeconds: 0, run: () => Promise.resolve() }), 'CONFIG_INVALID');
  });
});
