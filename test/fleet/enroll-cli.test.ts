import { expect } from 'chai';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ingestBatch } from '../../src/fleet/ingest.js';
import { keyLookupFrom } from '../../src/fleet/registry.js';
import { SqliteFleetStore } from '../../src/fleet/store/sqlite-store.js';
import { runCli } from '../agent/cli-child.js';
import { simDevice, type SimDevice } from './fleet-fixtures.js';
import { runCliWithInput } from './fleet-cli.js';

// device.json exactly as `edgeseal provision` writes it (format 1, no fleet field).
const deviceJson = (d: SimDevice): string =>
  `${JSON.stringify({ format: 1, deviceId: d.enrollment.deviceId, hardwareId: d.enrollment.hardwareId, reportPublicKey: d.enrollment.publicKey, reportKeyId: d.enrollment.keyId, nvIndices: { pin: 1, rootVersion: 2, securityVersion: 3, revocationVersion: 4, targetsVersion: 5 }, policyPcrs: 'sha256:0,7', provisionedAt: '2026-01-01T00:00:00.000Z' }, null, 2)}\n`;

describe('edgeseal fleet enroll (real CLI, SQLite file)', function () {
  this.timeout(20_000);
  let dir: string;
  let db: string;
  const [a, b, c] = [simDevice(1), simDevice(2), simDevice(3)];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'es-enroll-'));
    db = join(dir, 'fleet.db');
    await mkdir(join(dir, 'devices'));
    await writeFile(join(dir, 'devices', 'a.json'), deviceJson(a));
    await writeFile(join(dir, 'devices', 'b.json'), deviceJson(b));
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it('enrols a directory of device.json files and JSON lines from stdin, printing no warning', async () => {
    const r = await runCli(['fleet', 'enroll', '--db', db, '--fleet', 'f1', join(dir, 'devices')]);
    expect(r.err, 'stderr (an ExperimentalWarning from node:sqlite would show here)').to.equal('');
    expect(r.code).to.equal(0);
    expect(r.out.trim().split('\n')).to.deep.equal([`f1/${a.enrollment.deviceId}: enrolled (keyid ${a.signer.keyid.slice(0, 12)})`, `f1/${b.enrollment.deviceId}: enrolled (keyid ${b.signer.keyid.slice(0, 12)})`]);
    const lines = [c, a].map((d) => JSON.stringify({ fleet: 'f1', deviceId: d.enrollment.deviceId, hardwareId: d.enrollment.hardwareId, reportPublicKey: d.enrollment.publicKey })).join('\n');
    const s = await runCliWithInput(['fleet', 'enroll', '--db', db], `${lines}\n`);
    expect([s.code, s.err]).to.deep.equal([0, '']);
    expect(s.out).to.include(`f1/${c.enrollment.deviceId}: enrolled`).and.include(`f1/${a.enrollment.deviceId}: unchanged`);
    const store = SqliteFleetStore.open(db);
    expect((await store.devices()).length).to.equal(3);
    await store.close();
  });

  it('decommissions a device, and refuses to decommission one it does not know', async () => {
    await runCli(['fleet', 'enroll', '--db', db, '--fleet', 'f1', join(dir, 'devices', 'a.json')]);
    const r = await runCli(['fleet', 'enroll', '--db', db, '--fleet', 'f1', '--decommission', a.enrollment.deviceId]);
    expect([r.code, r.out.trim()]).to.deep.equal([0, `f1/${a.enrollment.deviceId}: decommissioned`]);
    const u = await runCli(['fleet', 'enroll', '--db', db, '--fleet', 'f1', '--decommission', 'nobody']);
    expect(u.code).to.equal(1);
    expect(u.err).to.include('[DEVICE_UNKNOWN]');
  });

  it('refuses a record whose keyid does not match its key, enrolling nothing', async () => {
    await writeFile(join(dir, 'devices', 'bad.json'), deviceJson(c).replace(c.enrollment.keyId, a.enrollment.keyId));
    const r = await runCli(['fleet', 'enroll', '--db', db, '--fleet', 'f1', join(dir, 'devices')]);
    expect(r.code).to.equal(2);
    expect(r.err).to.include('[CONFIG_INVALID]').and.include('reportKeyId: expected');
    const store = SqliteFleetStore.open(db);
    expect(await store.devices()).to.deep.equal([]);
    await store.close();
  });

  it('verifies again the events that arrived before the device was enrolled', async () => {
    const store = SqliteFleetStore.open(db);
    await ingestBatch(store, keyLookupFrom([]), [1, 2].map((seq) => ({ raw: a.envelope(seq), receivedAt: new Date(seq * 1000) })));
    await store.close();
    const r = await runCli(['fleet', 'enroll', '--db', db, '--fleet', 'f1', join(dir, 'devices', 'a.json')]);
    expect(r.out).to.include('f1: re-verified events of unknown devices: 2 now verified, 0 still rejected');
    const after = SqliteFleetStore.open(db);
    expect([await after.countEvents(), await after.rejectedCounts()]).to.deep.equal([2, {}]);
    await after.close();
  });
});
