import { expect } from 'chai';
import { chmod, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { agentPaths } from '../../src/agent/agent-state.js';
import { runUpdate } from '../../src/agent/update.js';
import { readJournal } from '../../src/ota/install-journal.js';
import { DiskOutboxStore } from '../../src/telemetry/outbox/disk-store.js';
import { parseEnvelope } from '../../src/telemetry/envelope.js';
import { installFakeSystemctl } from './fake-systemctl.js';
import { S, useBoardRig, withDevice, type Board } from './rig.js';

// ARCHITECTURE P8 through the real update path (swtpm, fixture repo, file boot selector): a signed
// release whose health check fails on its trial boot rolls back by itself with the floors where they
// were; a healthy one commits and raises the securityVersion floor.
describe('health-gated commit (real swtpm)', function () {
  const rig = useBoardRig(this, { scratch: 'es-health-gate-' });
  const savedPath = process.env.PATH;
  let healthy: string;
  let broken: string;
  before(async () => {
    await installFakeSystemctl(rig.dir, ['app.service']);
    process.env.PATH = `${rig.dir}${delimiter}${savedPath ?? ''}`;
    healthy = join(rig.dir, 'app-healthy');
    broken = join(rig.dir, 'app-broken');
    await writeFile(healthy, '#!/bin/sh\nexit 0\n');
    await writeFile(broken, '#!/bin/sh\necho "app crashed: config schema v3 unsupported" >&2\nexit 1\n');
    await Promise.all([chmod(healthy, 0o755), chmod(broken, 0o755)]);
  });
  after(() => {
    process.env.PATH = savedPath;
  });

  const board = (app: string): Promise<Board> => rig.board({ update: { health: { checks: [{ name: 'app', argv: [app] }], units: ['app.service'], deadlineSeconds: 30 } } });
  const floor = (b: Board): Promise<number> => withDevice(b, async (dev) => (await dev.trust.readFloors()).securityVersion);
  const events = async (b: Board, type: string): Promise<{ verdict: string; code?: string; detail?: string }[]> => {
    const { entries } = await new DiskOutboxStore(join(b.config.stateDir, 'outbox')).load();
    return entries.map((e) => parseEnvelope(e.bytes).event).filter((e) => e.type === type);
  };

  it('a signed release whose health check exits 1 rolls back by itself, floors unchanged, and says which check failed', async () => {
    const b = await board(broken);
    expect(await withDevice(b, (dev) => runUpdate(dev, {}))).to.include({ action: 'installed', next: 'reboot' });
    const boot = await rig.reboot(b);
    expect(boot).to.include({ action: 'rolled-back', proceed: false, code: 'HEALTH_CHECK_FAILED' });
    expect(boot.check.ok, 'the image itself verified').to.equal(true);
    expect(boot.message).to.equal('health check app of slot B failed: expected exit 0, found exit 1: app crashed: config schema v3 unsupported');
    expect(b.reboots).to.have.length(1);
    expect(await b.boot.state()).to.deep.equal({ active: 'B', good: 'A', trySlot: null, tryCount: 0 });
    expect(await floor(b), 'securityVersion floor').to.equal(0);
    const j = await readJournal(agentPaths(b.config.stateDir).journal);
    expect(j).to.deep.include({ state: 'rolled-back' });
    expect(j.install?.floorsRaised).to.equal(false);
    const rollbacks = await events(b, 'rollback');
    expect(rollbacks.map((e) => [e.verdict, e.code])).to.deep.equal([['refused', 'HEALTH_CHECK_FAILED']]);
    expect(rollbacks[0].detail).to.contain('health check app');
    expect(await events(b, 'commit')).to.deep.equal([]);
    // the bootloader returns to A, which still verifies and runs
    expect(await rig.reboot(b)).to.include({ action: 'verified', proceed: true });
    expect(await b.boot.state()).to.deep.include({ active: 'A', good: 'A' });
    expect(await floor(b)).to.equal(0);
  });

  it('an inactive unit fails the health gate the same way, naming the unit', async () => {
    const b = await rig.board({ update: { health: { checks: [{ name: 'app', argv: [healthy] }], units: ['app.service', 'net.service'] } } });
    expect(await withDevice(b, (dev) => runUpdate(dev, {}))).to.include({ action: 'installed' });
    const boot = await rig.reboot(b);
    expect(boot).to.include({ action: 'rolled-back', code: 'HEALTH_CHECK_FAILED', message: 'health check unit net.service of slot B failed: expected exit 0, found exit 3: inactive' });
    expect(await floor(b)).to.equal(0);
  });

  it('a healthy release commits after its health checks and only then raises the floor', async () => {
    const b = await board(healthy);
    expect(await withDevice(b, (dev) => runUpdate(dev, {}))).to.include({ action: 'installed' });
    expect(await floor(b)).to.equal(0);
    const boot = await rig.reboot(b);
    expect(boot).to.include({ action: 'committed', proceed: true });
    expect(await b.boot.state()).to.deep.equal({ active: 'B', good: 'B', trySlot: null, tryCount: 0 });
    expect(await floor(b)).to.equal(S.v2.securityVersion);
    const j = await readJournal(agentPaths(b.config.stateDir).journal);
    expect(j.install).to.deep.include({ floorsRaised: true, healthRuns: 1 });
    expect((await events(b, 'commit')).map((e) => e.verdict)).to.deep.equal(['ok']);
  });
});
