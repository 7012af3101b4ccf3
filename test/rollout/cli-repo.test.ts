import { expect } from 'chai';
import { readdir, readFile } from 'node:fs/promises';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT } from '../../src/cli/command.js';
import { generateKey } from '../../src/crypto/ed25519.js';
import { Repository } from '../../src/repo/repository.js';
import type { TargetsSigned } from '../../src/repo/tuf-json.js';
import { blobPath, loadWorkdir, saveWorkdir, storeKey } from '../../src/repo/workdir.js';
import { parseRolloutPolicy } from '../../src/rollout/policy.js';
import { runCli as run } from '../helpers/run-cli.js';

const NOW = '2026-03-01T12:00:00Z';
const IMAGE = 'fw/board-a/1.1.0.bin';

// A publisher workdir with one image target signed by the targets role.
async function workdir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'es-rollout-cli-'));
  const keys = { root: [generateKey()], targets: [generateKey()], snapshot: [generateKey()], timestamp: [generateKey()] };
  for (const [role, ks] of Object.entries(keys)) await storeKey(dir, role, ks[0]);
  const repo = Repository.init({ keys });
  repo.addTarget(IMAGE, { length: 10, sha256: 'ab'.repeat(32), custom: { hardwareIds: ['board-a'], version: '1.1.0', securityVersion: 1, kind: 'firmware' } });
  await saveWorkdir(dir, repo);
  return dir;
}

async function staged(dir: string): Promise<ReturnType<typeof parseRolloutPolicy>> {
  const repo = await loadWorkdir(dir, { keys: false });
  const t = (repo.envelope('rollouts').signed as TargetsSigned).targets['rollouts/policy.json'];
  return parseRolloutPolicy(await readFile(blobPath(dir, t.hashes.sha256)));
}

describe('edgeseal repo rollout', () => {
  it('creates the rollouts role on first use and stages percent, steps, canary ring, halt and resume', async () => {
    const dir = await workdir();
    const first = await run('repo', 'rollout', IMAGE, '--dir', dir, '--percent', '25', '--now', NOW);
    expect(first.code, first.err).to.equal(EXIT.OK);
    expect(first.out).to.contain('created role rollouts').and.contain('rollout policy v1').and.contain('25 % now');
    expect((await readdir(join(dir, 'keys'))).filter((n) => n.startsWith('rollouts-'))).to.have.length(1);
    const steps = await run('repo', 'rollout', IMAGE, '--dir', dir, '--steps', '1@0h,10@24h,50@3d,100@7d', '--start', NOW, '--now', '2026-03-02T13:00:00Z');
    expect(steps.out, steps.err).to.contain('v2').and.contain('10 % now').and.not.contain('created role');
    expect((await run('repo', 'rollout', IMAGE, '--dir', dir, '--allow', `${'c'.repeat(64)},${'d'.repeat(64)}`, '--now', NOW)).out).to.contain('canary ring of 2');
    expect((await run('repo', 'rollout', IMAGE, '--dir', dir, '--halt', '--now', NOW)).out).to.contain('HALTED');
    const p = await staged(dir);
    expect(p.version).to.equal(4);
    expect(p.rollouts[IMAGE]).to.deep.include({ percent: 100, halted: true, start: NOW, allow: ['c'.repeat(64), 'd'.repeat(64)] });
    expect(p.rollouts[IMAGE].steps).to.deep.equal([{ afterHours: 0, percent: 1 }, { afterHours: 24, percent: 10 }, { afterHours: 72, percent: 50 }, { afterHours: 168, percent: 100 }]);
    expect((await run('repo', 'rollout', IMAGE, '--dir', dir, '--resume', '--now', '2026-03-09T00:00:00Z')).out).to.contain('100 % now');
    expect((await staged(dir)).rollouts[IMAGE].halted).to.equal(undefined);
  });

  it('refuses a rollout that would widen what the targets role signed, and leaves the workdir as it was', async () => {
    const dir = await workdir();
    const before = await readFile(join(dir, 'repo.json'));
    const widen = await run('repo', 'rollout', 'fw/board-a/9.9.9.bin', '--dir', dir, '--percent', '5');
    expect(widen.code).to.equal(EXIT.REFUSED);
    expect(widen.err).to.contain('ROLLOUT_WIDENS').and.contain('fw/board-a/9.9.9.bin');
    expect(await readFile(join(dir, 'repo.json'))).to.deep.equal(before);
  });

  it('explains bad arguments', async () => {
    const dir = await workdir();
    expect((await run('repo', 'rollout', IMAGE, '--dir', dir, '--percent', '150')).err).to.contain('expected a percentage 0–100');
    expect((await run('repo', 'rollout', IMAGE, '--dir', dir, '--halt', '--percent', '5')).err).to.contain('expected exactly one of');
    expect((await run('repo', 'rollout', IMAGE, '--dir', dir, '--steps', '10@2d,5@1d')).err).to.contain('ascending');
    expect((await run('repo', 'rollout', IMAGE, '--dir', dir, '--allow', 'nothex')).err).to.contain('report key ids');
    expect((await run('repo', 'rollout', IMAGE, '--dir', dir, '--resume')).err).to.contain('to resume, found none');
  });
});
