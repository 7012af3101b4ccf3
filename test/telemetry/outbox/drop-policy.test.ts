import { expect } from 'chai';
import { planAdmission, priorityOf } from '../../../src/telemetry/outbox/drop-policy.js';

const q = (seq: number, priority: 0 | 1 | 2, size = 10) => ({ seq, priority, size });

describe('outbox drop policy', () => {
  it('ranks security verdicts over routine events over metrics heartbeats', () => {
    expect(priorityOf({ type: 'metrics', verdict: 'info' })).to.equal(0);
    expect(priorityOf({ type: 'agent-start', verdict: 'info' })).to.equal(1);
    expect(priorityOf({ type: 'update-check', verdict: 'error' })).to.equal(2);
    expect(priorityOf({ type: 'boot-verification', verdict: 'ok' })).to.equal(2);
  });

  it('never ranks fleet commands as security events, so a cmd-topic flood cannot evict verdicts', () => {
    expect(priorityOf({ type: 'command', verdict: 'refused' })).to.equal(1);
    expect(priorityOf({ type: 'command', verdict: 'ok' })).to.equal(1);
  });

  it('admits without eviction while under both bounds', () => {
    expect(planAdmission([q(1, 2)], { priority: 0, size: 10 }, { maxEntries: 2, maxBytes: 100 })).to.deep.equal({ admit: true, evict: [] });
  });

  it('evicts the oldest lowest-priority entries first', () => {
    const queued = [q(1, 2), q(2, 0), q(3, 1), q(4, 0)];
    expect(planAdmission(queued, { priority: 2, size: 10 }, { maxEntries: 4, maxBytes: 1000 })).to.deep.equal({ admit: true, evict: [2] });
    expect(planAdmission(queued, { priority: 2, size: 30 }, { maxEntries: 10, maxBytes: 40 })).to.deep.equal({ admit: true, evict: [2, 4, 3] });
  });

  it('never evicts a security verdict to make room for a heartbeat: the heartbeat is dropped', () => {
    expect(planAdmission([q(1, 2), q(2, 2)], { priority: 0, size: 10 }, { maxEntries: 2, maxBytes: 100 })).to.deep.equal({ admit: false });
  });

  it('replaces the oldest entry of the same class when the queue holds only that class', () => {
    expect(planAdmission([q(1, 2), q(2, 2)], { priority: 2, size: 10 }, { maxEntries: 2, maxBytes: 100 })).to.deep.equal({ admit: true, evict: [1] });
  });

  it('drops an entry larger than the whole byte bound without evicting anything', () => {
    expect(planAdmission([q(1, 0)], { priority: 2, size: 101 }, { maxEntries: 5, maxBytes: 100 })).to.deep.equal({ admit: false });
  });
});
