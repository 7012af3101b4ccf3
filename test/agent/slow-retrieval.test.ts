import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import { realTimers, Scheduler } from '../../src/agent/scheduler.js';
import { serveDirectory, type StaticServer } from '../../src/demo/static-server.js';
import { runUpdate, type UpdateOutcome } from '../../src/agent/update.js';
import { exitCodeFor } from '../../src/cli/command.js';
import { REPO, S, useBoardRig, withDevice, type Board } from './rig.js';

// TUF's slow-retrieval attack over real HTTP: a mirror that trickles one byte every 300 ms (never idle
// long enough for the 30 s idle timeout) is cut by the per-file deadline or the run budget.

const TRICKLE_MS = 300;

// Serves the repository, trickling the bodies whose path matches `slow`.
function trickleServer(slow: (path: string) => boolean): Promise<StaticServer> {
  return serveDirectory(REPO, {
    hook: (path, body, res) => {
      if (!slow(path)) return false;
      let at = 0;
      const timer = setInterval(() => {
        if (at >= body.length) return void res.end();
        res.write(body.subarray(at, ++at));
      }, TRICKLE_MS);
      res.on('close', () => clearInterval(timer));
      return true;
    },
  });
}

async function timedUpdate(board: Board, from: string): Promise<{ outcome: UpdateOutcome; seconds: number }> {
  const started = Date.now();
  const outcome = await withDevice(board, (dev) => runUpdate(dev, { from }));
  return { outcome, seconds: (Date.now() - started) / 1000 };
}

describe('slow retrieval (real HTTP, real swtpm)', function () {
  const rig = useBoardRig(this);

  it('cuts a timestamp.json trickled below update.minBytesPerSecond: SLOW_RETRIEVAL naming the file and figures, exit 3', async () => {
    // 16 KiB timestamp cap at 4 KiB/s plus 1 s: a 5 s deadline where the trickle needs minutes
    const board = await rig.board({ update: { minBytesPerSecond: 4096, retrievalFloorSeconds: 1 } });
    const server = await trickleServer((p) => p === '/metadata/timestamp.json');
    try {
      const { outcome, seconds } = await timedUpdate(board, server.url);
      expect(outcome).to.include({ action: 'refused', code: 'SLOW_RETRIEVAL' });
      expect(outcome.message).to.match(/timestamp\.json: expected up to 16384 bytes at 4096 B\/s or faster \(deadline 5 s/);
      expect(outcome.message).to.match(/received \d+ bytes in 5\.\d s/);
      expect(seconds).to.be.within(4.5, 10);
      expect(exitCodeFor('SLOW_RETRIEVAL')).to.equal(3);
    } finally {
      await server.close();
    }
  });

  it('cuts a target body trickled below the rate over its signed length; the next run resumes from the .part', async () => {
    // 160 KiB signed length at 1 MiB/s plus 1 s: about 1.2 s for a body that would take 14 hours
    const board = await rig.board({ update: { minBytesPerSecond: 1024 * 1024, retrievalFloorSeconds: 1 } });
    const server = await trickleServer((p) => p.startsWith('/targets/'));
    try {
      const { outcome, seconds } = await timedUpdate(board, server.url);
      expect(outcome).to.include({ action: 'refused', code: 'SLOW_RETRIEVAL' });
      expect(outcome.message).to.include(`${S.v2.target}: expected up to 163840 bytes at 1048576 B/s`);
      expect(seconds).to.be.below(8);
      expect(await board.boot.state()).to.include({ active: 'A', trySlot: null });
    } finally {
      await server.close();
    }
    // the interrupted download stays resumable: a good mirror finishes it
    const good = await serveDirectory(REPO);
    try {
      expect((await timedUpdate(board, good.url)).outcome).to.include({ action: 'installed' });
    } finally {
      await good.close();
    }
  });

  it("the agent's stop reaches a refresh in flight: the scheduler's abort ends the trickled update at once", async () => {
    const board = await rig.board(); // default bounds: the 46 s timestamp deadline is not what ends it
    const server = await trickleServer((p) => p === '/metadata/timestamp.json');
    try {
      await withDevice(board, async (dev) => {
        const scheduler = new Scheduler({ random: () => 0, ...realTimers, onError: () => undefined, onCoalesced: () => undefined });
        let outcome: UpdateOutcome | undefined;
        void scheduler.runNow({ name: 'update', cron: '0 3 * * *', jitterSeconds: 0, run: async (signal) => void (outcome = await runUpdate(dev, { from: server.url, signal })) });
        await sleep(1000);
        const stopping = Date.now();
        await scheduler.stop();
        expect(Date.now() - stopping).to.be.below(3000);
        expect(outcome).to.include({ action: 'refused', code: 'INSTALL_FAILED' });
        expect(outcome?.message).to.equal('agent stopping');
      });
    } finally {
      await server.close();
    }
  });

  it('ends a run past update.runBudgetSeconds even when each file keeps above its own rate', async () => {
    const board = await rig.board({ update: { minBytesPerSecond: 1, retrievalFloorSeconds: 3600, runBudgetSeconds: 2 } });
    const server = await trickleServer((p) => p === '/metadata/timestamp.json');
    try {
      const { outcome, seconds } = await timedUpdate(board, server.url);
      expect(outcome).to.include({ action: 'refused', code: 'SLOW_RETRIEVAL' });
      expect(outcome.message).to.match(/update run: expected to finish within 2 s \(update\.runBudgetSeconds\)/);
      expect(seconds).to.be.within(1.5, 6);
    } finally {
      await server.close();
    }
  });
});
