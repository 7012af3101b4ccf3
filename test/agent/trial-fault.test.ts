import { expect } from 'chai';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { agentPaths } from '../../src/agent/agent-state.js';
import { runAgent } from '../../src/agent/daemon.js';
import { runUpdate } from '../../src/agent/update.js';
import { isEdgesealError } from '../../src/core/errors.js';
import { createLogger } from '../../src/log/logger.js';
import { readJournal } from '../../src/ota/install-journal.js';
import { freePort } from '../helpers/free-port.js';
import { S, useBoardRig, withDevice, type Board } from './rig.js';

// Issue 11 A: an agent that exits 3 at start on a trial boot (here: the TPM does not answer, as when a
// new kernel broke its driver) rolls the trial back by itself; on a committed slot it only exits 3.
describe('exit 3 at agent start: a trial rolls back, a committed slot stays (real swtpm)', function () {
  const rig = useBoardRig(this);

  // Starts the agent with the board's config but a TPM address nothing listens on.
  async function startWithoutTpm(b: Board): Promise<{ code: string; reboots: string[][] }> {
    const raw = JSON.parse(await readFile(b.configPath, 'utf8')) as Record<string, unknown>;
    const configPath = join(b.dir, 'config-no-tpm.json');
    await writeFile(configPath, JSON.stringify({ ...raw, tpm: { swtpm: `127.0.0.1:${await freePort()}` } }));
    const reboots: string[][] = [];
    const err: unknown = await runAgent({ configPath, makeLogger: () => createLogger({ silent: true }), reboot: (argv) => Promise.resolve(void reboots.push([...argv])) }).catch((e: unknown) => e);
    expect(isEdgesealError(err), String(err)).to.equal(true);
    return { code: (err as { code: string }).code, reboots };
  }
  const floor = (b: Board): Promise<number> => withDevice(b, async (dev) => (await dev.trust.readFloors()).securityVersion);

  it('TPM unreachable on the trial boot: rolled back to A and rebooted, floors untouched', async () => {
    const b = await rig.board();
    expect(await withDevice(b, (dev) => runUpdate(dev, {}))).to.include({ action: 'installed' });
    expect(await b.boot.simulateBoot()).to.equal('B');
    const r = await startWithoutTpm(b);
    expect(r.code).to.equal('TPM_UNREACHABLE');
    expect(r.reboots).to.deep.equal([['true']]);
    const j = await readJournal(agentPaths(b.config.stateDir).journal);
    expect(j.state).to.equal('rolled-back');
    expect(j.install?.outcome?.code).to.equal('TPM_UNREACHABLE');
    expect(await b.boot.state()).to.deep.equal({ active: 'B', good: 'A', trySlot: null, tryCount: 0 });
    expect(await rig.reboot(b)).to.include({ action: 'verified', proceed: true });
    expect(await b.boot.state()).to.deep.include({ active: 'A', good: 'A' });
    expect(await floor(b)).to.equal(0);
  });

  it('TPM unreachable on a committed slot: exit 3 only, the slot and the journal stay', async () => {
    const b = await rig.board();
    expect(await withDevice(b, (dev) => runUpdate(dev, {}))).to.include({ action: 'installed' });
    expect(await rig.reboot(b)).to.include({ action: 'committed' });
    const r = await startWithoutTpm(b);
    expect(r).to.deep.equal({ code: 'TPM_UNREACHABLE', reboots: [] });
    expect((await readJournal(agentPaths(b.config.stateDir).journal)).state).to.equal('committed');
    expect(await b.boot.state()).to.deep.equal({ active: 'B', good: 'B', trySlot: null, tryCount: 0 });
    expect(await floor(b)).to.equal(S.v2.securityVersion);
  });
});
