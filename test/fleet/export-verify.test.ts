import { expect } from 'chai';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ingestBatch } from '../../src/fleet/ingest.js';
import { keyLookupFrom } from '../../src/fleet/registry.js';
import { SqliteFleetStore } from '../../src/fleet/store/sqlite-store.js';
import { runCli } from '../agent/cli-child.js';
import { reprovisioned, simDevice } from './fleet-fixtures.js';

describe('edgeseal fleet export → telemetry verify --registry (offline audit trail, many devices)', function () {
  this.timeout(30_000);
  let dir: string;
  const devices = [simDevice(1, 'lab', 'hw-a'), simDevice(2, 'lab', 'hw-b'), simDevice(3, 'lab', 'hw-c')];
  const rekeyed = reprovisioned(devices[0], 11);
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'es-export-'));
    const store = SqliteFleetStore.open(join(dir, 'fleet.db'));
    for (const d of [...devices, rekeyed]) await store.enroll(d.enrollment, new Date(0));
    const msgs = devices.flatMap((d, i) => [1, 2, 3, 4].map((seq) => ({ raw: d.envelope(seq, { type: 'update-check', verdict: 'ok', latencyMs: 10 * i + seq }), receivedAt: new Date(seq * 1000) })));
    msgs.push({ raw: rekeyed.envelope(1), receivedAt: new Date(9000) }, { raw: devices[1].envelope(9).replace('"ok"', '"refused","code":"ROLLBACK"'), receivedAt: new Date(9000) });
    const r = await ingestBatch(store, keyLookupFrom(await store.devices()), msgs);
    expect([r.inserted, r.rejected]).to.deep.equal([13, 1]);
    await store.close();
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('exports the stored events and key registry; verify checks all of them offline', async () => {
    const e = await runCli(['fleet', 'export', '--db', join(dir, 'fleet.db'), '--out', join(dir, 'events.jsonl'), '--registry', join(dir, 'registry.jsonl')]);
    expect([e.code, e.err]).to.deep.equal([0, '']);
    expect(e.out).to.include('13 events written').and.include('4 device keys written');
    const v = await runCli(['telemetry', 'verify', '--registry', join(dir, 'registry.jsonl'), '--file', join(dir, 'events.jsonl'), '--quiet']);
    expect([v.code, v.out.trim()]).to.deep.equal([0, '13 verified, 0 rejected']);
  });

  it('names the event when one byte of it is edited', async () => {
    const lines = (await readFile(join(dir, 'events.jsonl'), 'utf8')).split('\n');
    const target = lines.findIndex((l) => l.includes(devices[2].enrollment.deviceId) && l.includes('"seq":3'));
    lines[target] = (lines[target] ?? '').replace('"latencyMs":23', '"latencyMs":24');
    await writeFile(join(dir, 'edited.jsonl'), lines.join('\n'));
    const v = await runCli(['telemetry', 'verify', '--registry', join(dir, 'registry.jsonl'), '--file', join(dir, 'edited.jsonl'), '--quiet']);
    expect(v.code).to.equal(1);
    expect(v.out).to.include(`line ${target + 1}: REJECTED [SIGNATURE_INVALID] event seq 3 from ${devices[2].enrollment.deviceId}`);
    expect(v.out).to.include('12 verified, 1 rejected');
  });

  it('exports one device only, with its key history', async () => {
    const d = devices[0].enrollment.deviceId;
    const e = await runCli(['fleet', 'export', '--db', join(dir, 'fleet.db'), '--device', d, '--out', join(dir, 'one.jsonl'), '--registry', join(dir, 'one-reg.jsonl')]);
    expect(e.out).to.include('5 events written').and.include('2 device keys written');
  });
});
