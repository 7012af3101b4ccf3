import { expect } from 'chai';
import { expectCodeAsync } from '../helpers/expect-code.js';
import { startSwtpm, type Swtpm } from '../helpers/swtpm.js';
import { setupBoard } from './rig.js';

// A one-shot command next to the running agent: the agent holds the outbox (it hands out the
// sequence numbers), so the command stops with OUTBOX_LOCKED before it touches the TPM.
describe('agent outbox single writer (real swtpm)', function () {
  this.timeout(60_000);
  let swtpm: Swtpm;
  before(async () => {
    swtpm = await startSwtpm();
  });
  after(async () => {
    await swtpm.stop();
  });

  it('a second device opened on the same state dir is refused OUTBOX_LOCKED until the first closes', async () => {
    const board = await setupBoard(swtpm);
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
});
