import { expect } from 'chai';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { EXIT, type CliIo } from '../../src/cli/command.js';
import { dispatch } from '../../src/cli/dispatch.js';
import { createEventSigner, encodeEnvelope } from '../../src/telemetry/envelope.js';
import { buildEvent, type EventInput } from '../../src/telemetry/event.js';
import { startTelemetry } from '../../src/telemetry/service.js';
import { freePort } from '../helpers/free-port.js';
import { startMosquitto } from '../helpers/mosquitto.js';

const seed = new Uint8Array(32).fill(8);
const signer = createEventSigner(seed);
const hex = Buffer.from(signer.publicKey).toString('hex');

function capture(): CliIo & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, out: (l) => lines.push(l), err: (l) => errors.push(l), isTTY: false };
}

const line = (seq: number, s = signer, input: EventInput = { type: 'install', verdict: 'ok', keyids: ['ab'] }) => Buffer.from(encodeEnvelope(s.sign(buildEvent(input, { deviceId: 'd1', fleet: 'lab', seq, now: new Date(0) })))).toString();

async function file(name: string, content: string | Uint8Array): Promise<string> {
  const path = join(await mkdtemp(join(tmpdir(), 'es-cli-')), name);
  await writeFile(path, content);
  return path;
}

describe('edgeseal telemetry verify', () => {
  it('accepts genuine events, reports sequence gaps, exits 0', async () => {
    const io = capture();
    const events = await file('events.jsonl', [line(1), line(2), '', line(4)].join('\n'));
    expect(await dispatch(['telemetry', 'verify', '--pubkey', hex, '--file', events], io)).to.equal(EXIT.OK);
    expect(io.lines).to.include('d1: sequence gaps (no drop record from the device: lost or not captured): 3');
    expect(io.lines.at(-1)).to.equal('3 verified, 0 rejected');
  });

  it('tells seqs the device recorded dropping (signed outbox-drop) apart from the rest', async () => {
    const io = capture();
    const events = await file('drops.jsonl', [line(1), line(4), line(7, undefined, { type: 'outbox-drop', verdict: 'info', dropped: [[2, 2], [5, 6]] })].join('\n'));
    expect(await dispatch(['telemetry', 'verify', '--pubkey', hex, '--file', events, '--quiet'], io)).to.equal(EXIT.OK);
    expect(io.lines).to.include('d1: sequence gaps (no drop record from the device: lost or not captured): 3');
    expect(io.lines).to.include('d1: dropped by the device (signed outbox-drop): 2,5,6');
  });

  it('exits 1 naming each forged or malformed line', async () => {
    const forged = JSON.parse(line(2)) as { event: { verdict: string; code?: string } };
    forged.event.verdict = 'refused';
    forged.event.code = 'KEY_REVOKED';
    const io = capture();
    const events = await file('events.jsonl', [line(1), JSON.stringify(forged), line(3, createEventSigner(new Uint8Array(32))), '{"event":{}}'].join('\n'));
    expect(await dispatch(['telemetry', 'verify', '--pubkey', hex, '--file', events, '--quiet'], io)).to.equal(EXIT.REFUSED);
    expect(io.lines.filter((l) => l.includes('REJECTED')).map((l) => /^line (\d+): REJECTED \[(\w+)\]/.exec(l)?.slice(1))).to.deep.equal([
      ['2', 'SIGNATURE_INVALID'], ['3', 'SIGNATURE_INVALID'], ['4', 'EVENT_INVALID'],
    ]);
    expect(io.lines.at(-1)).to.equal('1 verified, 3 rejected');
  });

  it('reads the public key from a hex, raw or PEM file', async () => {
    const events = await file('events.jsonl', line(1));
    const pem = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' });
    for (const key of [await file('k.hex', `${hex}\n`), await file('k.bin', signer.publicKey)]) {
      expect(await dispatch(['telemetry', 'verify', '--pubkey', key, '--file', events], capture())).to.equal(EXIT.OK);
    }
    // A valid key, but not the device's: the event is rejected.
    expect(await dispatch(['telemetry', 'verify', '--pubkey', await file('k.pem', pem), '--file', events], capture())).to.equal(EXIT.REFUSED);
  });

  it('is a usage error for a bad key, a missing file, or no input', async () => {
    const io = capture();
    expect(await dispatch(['telemetry', 'verify', '--pubkey', await file('k', 'nope')], io)).to.equal(EXIT.USAGE);
    expect(io.errors[0]).to.contain('[KEY_INVALID]');
    expect(await dispatch(['telemetry', 'verify', '--pubkey', hex, '--file', '/nonexistent.jsonl'], capture())).to.equal(EXIT.USAGE);
    expect(await dispatch(['telemetry', 'verify', '--pubkey', hex, '--file', await file('empty', '\n')], capture())).to.equal(EXIT.REFUSED);
  });
});

async function waitForSubscribers(log: string, n: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while (((await readFile(log, 'utf8').catch(() => '')).match(/Received SUBSCRIBE from edgeseal-tail-/g) ?? []).length < n) {
    if (Date.now() > deadline) throw new Error(`fewer than ${n} tails subscribed`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('edgeseal telemetry tail', function () {
  this.timeout(20_000);

  it('pretty-prints a fleet, checks signatures, and its --json output passes verify', async () => {
    const broker = await startMosquitto();
    const svc = await startTelemetry({ deviceId: 'd1', fleet: 'lab', stateDir: await mkdtemp(join(tmpdir(), 'es-tel-')), broker: { url: broker.url }, metricsCron: null }, { seed });
    try {
      const pretty = capture();
      const json = capture();
      const tails = [
        dispatch(['telemetry', 'tail', '--broker', broker.url, '--fleet', 'lab', '--pubkey', hex, '--count', '4'], pretty),
        dispatch(['telemetry', 'tail', '--broker', broker.url, '--fleet', 'lab', '--device', 'd1', '--json', '--count', '2'], json),
      ];
      // Both tails must be subscribed before the device speaks (non-persistent subscribers miss earlier messages).
      await waitForSubscribers(broker.log, 2);
      await svc.reporter.record({ type: 'boot-verification', verdict: 'refused', code: 'DIGEST_MISMATCH', image: { name: 'fw.bin', version: '1.0.0', sha256: 'ab'.repeat(32) }, latencyMs: 3 });
      await svc.reporter.recordMetrics();
      const forger = await mqtt.connectAsync(broker.url);
      await forger.publishAsync('edgeseal/lab/d1/event', line(99, createEventSigner(new Uint8Array(32).fill(9))), { qos: 1 });
      await forger.endAsync();
      expect(await Promise.all(tails)).to.deep.equal([EXIT.REFUSED, EXIT.OK]);
      const text = pretty.lines.join('\n');
      expect(text).to.contain('lab/d1  status online');
      expect(text).to.match(/lab\/d1 {2}#1 {2}boot-verification {2}REFUSED {2}DIGEST_MISMATCH {2}fw\.bin 1\.0\.0 sha256:abababababab… {2}3 ms {2}\[sig ok\]/);
      expect(text).to.match(/#2 {2}metrics verify 0\/1 ok, p95 3 ms.*\[sig ok\]/);
      expect(text).to.match(/#99 .*\[sig forged\]/);
      const events = await file('tail.jsonl', json.lines.join('\n'));
      const verified = capture();
      expect(await dispatch(['telemetry', 'verify', '--pubkey', hex, '--file', events], verified), verified.lines.join('\n')).to.equal(EXIT.OK);
    } finally {
      await svc.stop();
      await broker.stop();
    }
  });

  it('exits 2 for a malformed broker URL and 3 for an unreachable broker', async () => {
    const io = capture();
    expect(await dispatch(['telemetry', 'tail', '--broker', 'localhost:1883', '--fleet', 'lab'], io)).to.equal(EXIT.USAGE);
    expect(io.errors[0]).to.contain('[CONFIG_INVALID]');
    const port = await freePort();
    expect(await dispatch(['telemetry', 'tail', '--broker', `mqtt://127.0.0.1:${port}`, '--fleet', 'lab'], io)).to.equal(EXIT.ENVIRONMENT);
    expect(io.errors[1]).to.contain('[BROKER_UNREACHABLE]');
    expect(await dispatch(['telemetry', 'tail', '--broker', `mqtt://127.0.0.1:${port}`, '--fleet', 'lab', '--count', '0'], io)).to.equal(EXIT.USAGE);
  });
});
