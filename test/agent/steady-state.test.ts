import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { fileURLToPath } from 'node:url';
import type { ProbeReport } from '../helpers/module-probe.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { listenNotify } from '../helpers/notify-listener.js';
import { waitFor } from '../helpers/wait-for.js';
import { startCli } from './cli-child.js';
import { useBoardRig } from './rig.js';

const PROBE = fileURLToPath(new URL('../helpers/module-probe.js', import.meta.url));

// What an idle agent holds (issue 12 A, docs/memory.md): the update and refresh code is loaded when a
// job runs, the publisher, fleet and demo code never; V8's young generation stays at its start-up size.
describe('edgeseal agent at steady state (real process, swtpm, mosquitto)', function () {
  const rig = useBoardRig(this);

  it('after READY=1 it has loaded no tuf-js client, HTTP transport or download code, no repo/fleet/demo code, no aedes or sqlite; no Intl (ICU); new space ≤ 4 MiB; no MQTT packet-id cache', async () => {
    const broker = await startMosquitto();
    const board = await rig.board({ update: { schedule: '0 3 * * *' }, telemetry: { broker: broker.url }, fleet: 'f1' });
    const { sock, got, stop } = await listenNotify(board.dir);
    const fleet = await mqtt.connectAsync(broker.url);
    const status: string[] = [];
    fleet.on('message', (_t, payload) => status.push(payload.toString()));
    await fleet.subscribeAsync('edgeseal/f1/dev-1/status', { qos: 1 });
    const out = join(board.dir, 'probe.json');
    const { child, done } = startCli(['agent', '--config', board.configPath], { NOTIFY_SOCKET: sock, NODE_OPTIONS: `--import=${PROBE}`, MODULE_PROBE_OUT: out });
    try {
      await waitFor('READY=1', () => got.some((m) => m.startsWith('READY=1')));
      await waitFor('the agent online on the broker (its packets written)', () => status.some((p) => p.includes('"online"')));
      child.kill('SIGUSR2');
      await waitFor('the probe report', () => existsSync(out));
      const report = JSON.parse(await readFile(out, 'utf8')) as ProbeReport;
      expect(report.modules.some((u) => u.includes('/src/agent/daemon.js')), 'the probe saw the agent load').to.equal(true);
      const unwanted = [/\/node_modules\/tuf-js\//, /\/src\/(repo|fleet|demo)\//, /\/node_modules\/aedes/, /^node:sqlite$/, /\/src\/tuf\/updater\.js$/, /\/src\/net\/http-transport\.js$/, /\/src\/ota\/stream-install\.js$/];
      expect(report.modules.filter((u) => unwanted.some((re) => re.test(u)))).to.deep.equal([]);
      expect(report.intl, 'Intl maps ICU data and code in: ~9 MiB of RSS').to.deep.equal([]);
      expect(report.heapSpaces.new_space).to.be.at.most(4 * 1024 * 1024);
      expect(report.packetIdBuffers, 'mqtt-packet builds 65,536 Buffers (~6.5 MiB) unless writeCache is off').to.equal(0);
      child.kill('SIGTERM');
      expect((await done).code).to.equal(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await stop();
      await fleet.endAsync(true);
      await broker.stop();
    }
  });
});
