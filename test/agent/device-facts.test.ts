import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { agentPaths, writeSlotRecords, type AgentPaths } from '../../src/agent/agent-state.js';
import { deviceReport, type FactsSources } from '../../src/agent/device-facts.js';
import { FileBootSelector } from '../../src/ota/boot-selector-file.js';
import { writeJournal, type InstallJournal, type InstallTarget } from '../../src/ota/install-journal.js';

const target = (version: string): InstallTarget => ({ name: 'fw/board.bin', length: 1 << 20, sha256: version.replace(/\D/g, '').repeat(64).slice(0, 64), version, securityVersion: 0 });
const OLD = target('1.0.0');
const NEW = target('2.0.0');

describe('device facts: the inventory a metrics event carries', () => {
  let dir: string;
  let paths: AgentPaths;
  let src: FactsSources;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'edgeseal-facts-'));
    paths = agentPaths(dir);
    const selector = await FileBootSelector.create(join(dir, 'boot-state.json'), 'A');
    const floors = { rootVersion: 1, securityVersion: 0, revocationVersion: 0, targetsVersion: 1 };
    src = {
      ab: { selector },
      paths,
      trust: { readFloors: () => Promise.resolve(floors) },
      revocations: { status: () => ({ state: 'never', version: undefined, highestVersion: 0, ageDays: undefined, expires: undefined, list: undefined, cacheProblem: undefined }) },
      clock: () => new Date('2026-12-06T00:00:00Z'),
    };
    await writeSlotRecords(paths, { A: OLD, B: OLD });
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const journal = (state: InstallJournal['state'], offset?: number): InstallJournal => ({
    seq: 3,
    state,
    install: { target: NEW, fromSlot: 'A', toSlot: 'B', floorsRaised: false, ...(offset === undefined ? {} : { offset }) },
  });

  it('idle: each slot as its record says', async () => {
    const device = (await deviceReport(src)).device!;
    expect(device.slots.B).to.deep.equal({ target: OLD.name, version: '1.0.0', sha256: OLD.sha256 });
  });

  it('a slot being streamed into is left out: it holds neither its old target nor the new one yet', async () => {
    await writeJournal(paths.journal, journal('downloading', 65536));
    const device = (await deviceReport(src)).device!;
    expect(device.slots).to.have.keys(['A']);
    expect(device.slots.A).to.deep.equal({ target: OLD.name, version: '1.0.0', sha256: OLD.sha256 });
  });

  it('a staged slot (verified, not armed yet) is reported with the new target', async () => {
    await writeJournal(paths.journal, journal('staged'));
    const device = (await deviceReport(src)).device!;
    expect(device.slots.B).to.deep.equal({ target: NEW.name, version: '2.0.0', sha256: NEW.sha256 });
  });
});
