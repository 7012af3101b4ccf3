import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { agentPaths } from '../../src/agent/agent-state.js';
import { runBootCheck } from '../../src/agent/boot-check.js';
import { runUpdate } from '../../src/agent/update.js';
import { CACHE_STEPS } from '../../src/tuf/cache/generations.js';
import { LiveRepo } from './live-repo.js';
import { useBoardRig, withDevice } from './rig.js';

const CHILD = fileURLToPath(new URL('./refresh-child.js', import.meta.url));

function runChild(config: string, from: string, killAt: string): Promise<NodeJS.Signals | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, JSON.stringify({ config, from, killAt })], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('close', (_code, signal) => resolve(signal));
  });
}

// Issue 10 A: SIGKILL right after every named step of refresh-and-promote (including between the promote
// and the floor raise) leaves a cache that boots, and the next refresh promotes and cleans up.
describe('metadata cache: a refresh killed at every step leaves a cache that boots (real swtpm, SIGKILL)', function () {
  const rig = useBoardRig(this, { scratch: 'es-agent-cache-kill-' });
  this.timeout(180_000);

  it('boots after a kill at each step; the next refresh succeeds and leaves one generation', async () => {
    const pub = new LiveRepo(join(rig.dir, 'repo'));
    await pub.publish();
    const board = await rig.board({}, 'board-a', pub.dir);
    const cache = agentPaths(board.config.stateDir).metadataCache;
    for (const step of CACHE_STEPS) {
      pub.repo.markDirty('targets'); // each round has something new to promote
      await pub.publish();
      expect(await runChild(board.configPath, pub.dir, step), step).to.equal('SIGKILL');
      await rig.swtpm.restart();
      const check = await withDevice(board, (dev) => runBootCheck(dev, new Date()));
      expect(check.outcomes.map((o) => (o.verdict.ok ? 'VERIFIED' : o.verdict.code)), step).to.deep.equal(['VERIFIED']);
    }
    expect(await withDevice(board, (dev) => runUpdate(dev))).to.include({ action: 'none', code: 'NO_UPDATE' });
    expect((await readdir(cache)).filter((n) => n !== 'current')).to.have.length(1);
    expect(await withDevice(board, (dev) => dev.trust.readFloors())).to.include({ targetsVersion: CACHE_STEPS.length + 1 });
  });
});
