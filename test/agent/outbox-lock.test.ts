import { expect } from 'chai';
import { agentPaths, readAgentStatus } from '../../src/agent/agent-state.js';
import { readJournal } from '../../src/ota/install-journal.js';
import { expectCodeAsync } from '../helpers/expect-code.js';
import { runCli, startCli } from './cli-child.js';
import { useBoardRig } from './rig.js';

// A one-shot command next to the running agent: the agent holds the outbox (it hands out the
// sequence numbers), so the command stops with OUTBOX_LOCKED before it touches the TPM.
describe('agent outbox single writer (real swtpm)', function () {
  const rig = useBoardRig(this);

  it('a second device opened on the same state dir is refused OUTBOX_LOCKED until the first closes', async () => {
    const board = await rig.board();
    const agent = await board.open();
    try {
      const err = await expectCodeAsync(() => board.open({ outboxLockWaitMs: 0 }), 'OUTBOX_LOCKED');
      expect(err.message).to.contain('systemctl stop edgeseal-agent');
      await agent.report({ type: 'agent-start', verdict: 'info' }); // the holder still works
    } finally {
      await agent.close();
    }
    const next = await board.open({ outboxLockWaitMs: 0 });
    await next.close();
  });

  it('edgeseal update next to the running agent: exit 3 with OUTBOX_LOCKED, the agent untouched', async () => {
    const board = await rig.board();
    const paths = agentPaths(board.config.stateDir);
    const { child, done } = startCli(['agent', '--config', board.configPath]);
    try {
      const deadline = Date.now() + 20_000;
      while ((await readAgentStatus(paths)).pid !== child.pid) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error('the agent did not start');
        await new Promise((r) => setTimeout(r, 50));
      }
      const r = await runCli(['update', '--config', board.configPath]);
      expect(r.code, r.err).to.equal(3);
      expect(r.err).to.contain('[OUTBOX_LOCKED]').and.contain(`pid ${child.pid}`);
      expect((await readJournal(paths.journal)).state).to.equal('idle');
      child.kill('SIGTERM');
      expect((await done).code).to.equal(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
