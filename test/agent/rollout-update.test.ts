import { expect } from 'chai';
import { join } from 'node:path';
import { runUpdate } from '../../src/agent/update.js';
import { applyRollout, setRolloutTarget } from '../../src/rollout/publisher-workdir.js';
import type { RolloutChange } from '../../src/rollout/edit.js';
import type { RolloutPolicy } from '../../src/rollout/policy.js';
import { testKey } from '../helpers/tuf-repo.js';
import { LiveRepo } from './live-repo.js';
import { S, useBoardRig, withDevice, type Board } from './rig.js';

// Staged rollouts through the real update path: a policy signed by the online `rollouts` key holds a
// release back (halt) at the device's next refresh and lets it through on resume (docs/rollouts.md).
describe('agent update under a signed rollout policy (real swtpm)', function () {
  const rig = useBoardRig(this, { scratch: 'es-agent-rollout-' });
  const SALT = '3c'.repeat(16);

  let policy: RolloutPolicy | undefined;
  // what `edgeseal repo rollout` does, then a publish that re-signs only online-keyed roles
  const rollout = async (pub: LiveRepo, change: RolloutChange): Promise<void> => {
    const staged = applyRollout(pub.repo, policy, { target: S.v2.target, change, now: new Date(), salt: SALT, newKeys: () => [testKey('rollouts')] });
    policy = staged.policy;
    pub.blobs.set(staged.sha256, staged.bytes);
    // only creating the delegation touches targets; every later change is signed with online keys alone
    if (!staged.created) expect(pub.repo.pending(), 'roles to re-sign').to.deep.equal(['rollouts']);
    await pub.publish();
  };
  const update = (board: Board): ReturnType<typeof runUpdate> => withDevice(board, (dev) => runUpdate(dev));
  const untouched = async (board: Board): Promise<void> => {
    expect(await board.boot.state()).to.deep.equal({ active: 'A', good: 'A', trySlot: null, tryCount: 0 });
  };

  beforeEach(() => (policy = undefined));

  it('a halt stops the install at the next refresh, resume lets it through, and the armed trial still commits after a new halt', async () => {
    const pub = new LiveRepo(join(rig.dir, 'repo-halt'));
    await pub.publish();
    const board = await rig.board({}, 'board-a', pub.dir);
    pub.addV2();
    await rollout(pub, { kind: 'percent', percent: 100 });
    await rollout(pub, { kind: 'halt' });

    const halted = await update(board);
    expect(halted).to.include({ action: 'none', code: 'ROLLOUT_WITHHELD' });
    expect(halted.message).to.contain('rollout halted').and.contain(S.v2.target);
    await untouched(board);

    await rollout(pub, { kind: 'resume' });
    const resumed = await update(board);
    expect(resumed).to.include({ action: 'installed' });
    expect(resumed.target).to.include({ name: S.v2.target });
    expect(resumed.reasons?.find((r) => r.startsWith('in rollout cohort'))).to.match(/^in rollout cohort \(\d{1,4} < 10000\)$/);

    // decided in docs/rollouts.md: a halt stops new installs; a trial already armed runs its course
    await rollout(pub, { kind: 'halt' });
    expect((await rig.reboot(board)).action).to.equal('committed');
  });

  it('holds back a device outside the cohort with the bucket in the reason; the canary ring lets it in', async () => {
    const pub = new LiveRepo(join(rig.dir, 'repo-cohort'));
    await pub.publish();
    const board = await rig.board({}, 'board-a', pub.dir);
    pub.addV2();
    await rollout(pub, { kind: 'percent', percent: 0 });
    const held = await update(board);
    expect(held).to.include({ action: 'none', code: 'ROLLOUT_WITHHELD' });
    expect(held.message).to.match(/not yet in rollout \(\d{1,4} ≥ 0\)/);
    const keyid = await withDevice(board, (dev) => Promise.resolve(dev.trust.identity.reportKeyId));
    await rollout(pub, { kind: 'allow', keyids: [keyid] });
    const canary = await update(board);
    expect(canary).to.include({ action: 'installed' });
    expect(canary.reasons).to.include('in canary ring');
  });

  it('refuses every install when the rollouts key signs a policy that widens what targets signed', async () => {
    const pub = new LiveRepo(join(rig.dir, 'repo-widen'));
    await pub.publish();
    const board = await rig.board({}, 'board-a', pub.dir);
    pub.addV2();
    await rollout(pub, { kind: 'percent', percent: 100 });
    // the online key alone, skipping the publisher's check: a rollout for a target nobody signed
    const widened = { ...policy!, version: policy!.version + 1, rollouts: { ...policy!.rollouts, 'fw/board-a/evil.bin': { salt: SALT, percent: 100 } } };
    const { bytes, sha256 } = setRolloutTarget(pub.repo, widened, () => []);
    pub.blobs.set(sha256, bytes);
    await pub.publish();
    const o = await update(board);
    expect(o).to.include({ action: 'refused', code: 'ROLLOUT_WIDENS' });
    expect(o.message).to.contain('fw/board-a/evil.bin');
    await untouched(board);
  });
});
