import { expect } from 'chai';
import mqtt from 'mqtt';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FIXTURES_OUT } from '../../firmware-fixtures/manifest.js';
import { bootSequence } from '../../src/agent/boot-sequence.js';
import type { Device } from '../../src/agent/device.js';
import { refreshMetadata } from '../../src/agent/metadata-refresh.js';
import { refreshRevocations } from '../../src/agent/revocation-refresh.js';
import { runUpdate } from '../../src/agent/update.js';
import { collectorKeyFromSeed } from '../../src/fleet/collector/collector-key.js';
import type { InventoryRow } from '../../src/fleet/inventory.js';
import type { SliReport } from '../../src/fleet/sli.js';
import { createEventSigner, encodeEnvelope } from '../../src/telemetry/envelope.js';
import { buildEvent } from '../../src/telemetry/event.js';
import { runCli, startCli, type Finished } from '../agent/cli-child.js';
import { NOW, S, useBoardRig } from '../agent/rig.js';
import { freePort } from '../helpers/free-port.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { startPostgres } from '../helpers/postgres.js';
import { until } from './until.js';

// Issue 13 acceptance: a real agent (swtpm, provisioned, real mosquitto) boots, updates and gets a
// tampered release refused while the real `fleet serve` process is stopped for part of it; afterwards
// the collector's API shows every event, the inventory row, the refusal, 100 % audit completeness and
// a forged event in the rejected count, and `fleet export` verifies offline. Once per store engine.
const DEMO = join(FIXTURES_OUT, S.demo.repo); // the update scenario with a signed revocation list
const DEMO_TAMPERED = join(FIXTURES_OUT, S.demo.tampered);
const COLLECTOR_SEED = '5a'.repeat(32);

const engines: { name: string; setup(dir: string): Promise<{ db: string; stop(): Promise<void> }> }[] = [
  { name: 'SQLite', setup: (dir) => Promise.resolve({ db: join(dir, 'fleet.db'), stop: () => Promise.resolve() }) },
  {
    name: 'PostgreSQL',
    async setup() {
      const pg = await startPostgres();
      return { db: await pg.createDatabase('acceptance'), stop: () => pg.stop() };
    },
  },
];

for (const engine of engines) describe(`acceptance: a real agent through mosquitto into fleet serve (${engine.name})`, function () {
  const rig = useBoardRig(this, { scratch: 'es-accept-' });
  let broker: Mosquitto;
  let db: { db: string; stop(): Promise<void> };
  let serve: { child: ReturnType<typeof startCli>['child']; done: Promise<Finished> } | undefined;
  before(async () => {
    broker = await startMosquitto();
    db = await engine.setup(rig.dir);
  });
  after(async () => {
    serve?.child.kill('SIGTERM');
    await serve?.done;
    await broker.stop();
    await db.stop();
  });

  it('stores every event across a collector outage, shows the inventory, the refusal, 100 % audit and the forged event; the export verifies offline', async () => {
    const key = collectorKeyFromSeed(Buffer.from(COLLECTOR_SEED, 'hex'));
    await writeFile(join(rig.dir, 'collector.key'), `${COLLECTOR_SEED}\n`, { mode: 0o600 });
    const api = `http://127.0.0.1:${await freePort()}`;
    const fleetJson = join(rig.dir, 'fleet.json');
    await writeFile(fleetJson, JSON.stringify({ db: db.db, broker: { url: broker.url }, fleets: ['lab'], clientId: 'collector-accept', collectorKey: join(rig.dir, 'collector.key'), http: { port: Number(new URL(api).port) } }));
    const startServe = async (): Promise<void> => {
      let out = '';
      serve = startCli(['fleet', 'serve', '--config', fleetJson]);
      serve.child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
      await until('fleet serve to start', () => out.includes(`collector key ${key.publicHex}`));
    };
    const stopServe = async (): Promise<Finished> => {
      serve?.child.kill('SIGTERM');
      const r = await (serve as NonNullable<typeof serve>).done;
      serve = undefined;
      return r;
    };
    const get = async <T>(path: string): Promise<T> => (await (await fetch(`${api}${path}`)).json()) as T;

    // the board, provisioned; what `provision` wrote is what the fleet enrols
    const board = await rig.board({ fleet: 'lab', telemetry: { broker: broker.url, ack: 'collector', collectorKey: key.publicHex } }, undefined, DEMO);
    const devicePath = join(board.config.stateDir, 'trust', 'device.json');
    const deviceId = (JSON.parse(await readFile(devicePath, 'utf8')) as { deviceId: string }).deviceId;
    const enrolled = await runCli(['fleet', 'enroll', '--db', db.db, '--fleet', 'lab', devicePath]);
    expect([enrolled.code, enrolled.err]).to.deep.equal([0, '']);
    const open = (): Promise<Device> => board.open({ telemetry: 'publish', config: { ...board.config, deviceId } });
    const outbox = (dev: Device): number => dev.telemetry?.outbox.stats(0).depth ?? -1;
    await startServe();

    // run 1 (collector up): the factory revocation list, the boot check, the update staged into B
    let dev = await open();
    await refreshRevocations(dev, () => refreshMetadata(dev, DEMO));
    expect((await bootSequence(dev, NOW)).action).to.equal('verified');
    expect(await runUpdate(dev)).to.include({ action: 'installed', next: 'reboot' });
    await dev.telemetry?.reporter.recordMetrics();
    await until('run 1 stored and acknowledged', () => outbox(dev) === 0);
    await dev.close();

    // run 2 (collector stopped): the trial boot commits B, the next release comes through a tampering mirror
    expect((await stopServe()).code).to.equal(0);
    await board.boot.simulateBoot();
    await rig.swtpm.restart();
    dev = await open();
    expect((await bootSequence(dev, NOW)).action).to.equal('committed');
    expect(await runUpdate(dev, { from: DEMO_TAMPERED })).to.include({ action: 'refused', code: 'DIGEST_MISMATCH' });
    const last = (await dev.telemetry?.reporter.recordMetrics())?.seq ?? 0;
    expect(outbox(dev), 'held on the device until the collector has them').to.be.greaterThan(3);

    // the collector comes back: what the broker queued and the device resends is stored, then acknowledged
    await startServe();
    await until('run 2 stored and acknowledged', () => outbox(dev) === 0, 20_000);
    await dev.close();

    // a forged event under the device's topic: its keyid, another key's signature
    const forger = createEventSigner(new Uint8Array(32).fill(0x66));
    const forged = forger.sign(buildEvent({ type: 'commit', verdict: 'ok', image: { name: S.v3.target, version: S.v3.version } }, { deviceId, fleet: 'lab', seq: last + 1, now: new Date() }));
    const intruder = await mqtt.connectAsync(broker.url);
    await intruder.publishAsync(`edgeseal/lab/${deviceId}/event`, Buffer.from(encodeEnvelope({ ...forged, sig: { ...forged.sig, keyid: dev.trust.identity.reportKeyId } })), { qos: 1 });
    await intruder.endAsync();
    await until('the forged event rejected', async () => (await get<{ counts: Record<string, number> }>('/api/rejected')).counts.SIGNATURE_INVALID === 1);

    // the on-call API of the running collector
    const row = (await get<InventoryRow[]>('/api/inventory')).find((d) => d.deviceId === deviceId);
    expect(row).to.deep.include({ fleet: 'lab', hardwareId: S.hardwareId, status: 'active', rootVersion: 1, activeSlot: 'B', goodSlot: 'B', gaps: [], deviceDropped: [] });
    expect(row?.slots?.A).to.deep.include({ target: S.v1.target, version: S.v1.version });
    expect(row?.slots?.B).to.deep.include({ target: S.v2.target, version: S.v2.version });
    expect(row?.slots?.B?.sha256).to.match(/^[0-9a-f]{64}$/);
    expect(row?.floors).to.deep.include({ rootVersion: 1, securityVersion: S.v2.securityVersion });
    expect(row?.revocation?.version).to.equal(1);
    expect(row?.installed).to.deep.include({ name: S.v2.target, version: S.v2.version });
    expect(row?.lastRefusal).to.deep.include({ type: 'update-decision', code: 'DIGEST_MISMATCH', image: S.v3.target });
    const refusals = await get<{ deviceId: string; code: string; image: string }[]>('/api/refusals?limit=10');
    expect(refusals.map((r) => [r.deviceId, r.code, r.image])).to.deep.include([deviceId, 'DIGEST_MISMATCH', S.v3.target]);
    const sli = await get<SliReport>('/api/sli?window=86400');
    expect(sli.auditCompleteness).to.deep.equal({ received: last, expected: last, ratio: 1, deviceDropped: 0, lostInTransit: 0 });
    // one tampered release is one blocked install, though the device reports its install and its update-decision refused
    expect(sli.blockedByCode).to.deep.equal({ DIGEST_MISMATCH: 1 });
    const stopped = await stopServe();
    expect([stopped.code, stopped.err]).to.deep.equal([0, '']);
    expect(stopped.out).to.include('1 rejected');

    // the audit trail a third party checks offline, and one edited byte named
    const events = join(rig.dir, 'events.jsonl');
    const registry = join(rig.dir, 'registry.jsonl');
    const exported = await runCli(['fleet', 'export', '--db', db.db, '--device', deviceId, '--out', events, '--registry', registry]);
    expect(exported.out).to.include(`${last} events written`);
    const verified = await runCli(['telemetry', 'verify', '--registry', registry, '--file', events, '--quiet']);
    expect([verified.code, verified.out.trim()]).to.deep.equal([0, `${last} verified, 0 rejected`]);
    const lines = (await readFile(events, 'utf8')).split('\n');
    const at = lines.findIndex((l) => l.includes('"code":"DIGEST_MISMATCH"') && l.includes('"type":"update-decision"'));
    const seq = (JSON.parse(lines[at] ?? '') as { event: { seq: number } }).event.seq;
    const bytes = Buffer.from(lines[at] ?? '');
    const detail = bytes.indexOf('"detail":"') + '"detail":"'.length;
    bytes[detail] = bytes[detail] === 0x58 ? 0x59 : 0x58; // one byte: the detail's first letter becomes X (or Y)
    lines[at] = bytes.toString();
    await writeFile(events, lines.join('\n'));
    const edited = await runCli(['telemetry', 'verify', '--registry', registry, '--file', events, '--quiet']);
    expect(edited.code).to.equal(1);
    expect(edited.out).to.include(`line ${at + 1}: REJECTED [SIGNATURE_INVALID] event seq ${seq} from ${deviceId}`);
    expect(edited.out).to.include(`${last - 1} verified, 1 rejected`);
  });
});
