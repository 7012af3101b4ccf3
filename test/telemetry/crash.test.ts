import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEventSigner, verifyEnvelope } from '../../src/telemetry/envelope.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { FleetWatch } from './fleet-watch.js';

const CHILD = fileURLToPath(new URL('./fixtures/device-child.js', import.meta.url));

// Starts the child device and resolves with the seqs it reports once they are on disk.
function runDevice(stateDir: string, url: string, count: number): Promise<{ child: ChildProcess; seqs: number[] }> {
  const child = spawn(process.execPath, [CHILD, stateDir, url, String(count)], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /recorded ([\d,]*)\n/.exec(out);
      if (m) resolve({ child, seqs: m[1] ? m[1].split(',').map(Number) : [] });
    });
    child.once('exit', (code) => reject(new Error(`device child exited early with ${String(code)}: ${out}`)));
  });
}

function sigkill(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

describe('telemetry survives an agent SIGKILL', function () {
  this.timeout(30_000);

  it('delivers every event of a full outbox after the killed agent restarts, with the sequence continuing', async () => {
    const broker = await startMosquitto();
    const stateDir = await mkdtemp(join(tmpdir(), 'es-crash-'));
    let second: ChildProcess | undefined;
    try {
      const watch = await FleetWatch.open(broker.url, 'edgeseal/lab/crashy/+', { clean: false, clientId: 'fleet-crash' });
      await broker.stop();
      const first = await runDevice(stateDir, broker.url, 50);
      expect(first.seqs).to.deep.equal(Array.from({ length: 50 }, (_, i) => i + 1));
      await sigkill(first.child);
      expect((await readdir(join(stateDir, 'outbox', 'spool'))).length).to.equal(50);

      await broker.start();
      const restarted = await runDevice(stateDir, broker.url, 1);
      second = restarted.child;
      expect(restarted.seqs).to.deep.equal([51]);
      await watch.waitFor('51 events', () => watch.envelopes().length === 51);
      const publicKey = createEventSigner(new Uint8Array(32).fill(3)).publicKey;
      for (const env of watch.envelopes()) verifyEnvelope(env, publicKey);
      expect(watch.envelopes().map((e) => e.event.seq)).to.deep.equal(Array.from({ length: 51 }, (_, i) => i + 1));

      // A SIGKILLed agent cannot say goodbye: the broker publishes its last will.
      await sigkill(second);
      await watch.waitFor('offline will', () => watch.statuses().at(-1) === 'offline');
      await watch.close();
    } finally {
      if (second) await sigkill(second);
      await broker.stop();
    }
  });
});
