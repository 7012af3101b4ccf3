import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import mqtt from 'mqtt';
import { startEmbeddedBroker } from '../src/telemetry/embedded-broker.js';
import { deviceTopics } from '../src/telemetry/topics.js';
import { startMosquitto } from '../test/helpers/mosquitto.js';
import { listenNotify } from '../test/helpers/notify-listener.js';
import { startSwtpm } from '../test/helpers/swtpm.js';
import { waitFor } from '../test/helpers/wait-for.js';
import { startCli } from '../test/agent/cli-child.js';
import { setupBoard } from '../test/agent/rig.js';
import type { Bench, BenchResult } from './measure.js';
import { residentByMapping, residentOf, type Resident } from './smaps.js';

const MiB = 1024 * 1024;
const STEADY_MS = 30_000;
const GOAL_MIB = 70;
const FLEET = 'bench';
const mib = (n: number): string => (n / MiB).toFixed(1);

// mosquitto as on a real fleet; the demo's embedded aedes broker where mosquitto is not installed.
async function startBroker(): Promise<{ url: string; name: string; stop: () => Promise<void> }> {
  if (existsSync('/usr/sbin/mosquitto')) {
    const m = await startMosquitto();
    return { url: m.url, name: 'mosquitto', stop: () => m.stop() };
  }
  const b = await startEmbeddedBroker();
  return { url: b.url, name: 'embedded aedes', stop: () => b.close() };
}

// V8's heap as the process's own diagnostic report gives it (node --report-on-signal), taken last so
// that writing the report never weighs on the RSS figures.
async function heapReport(pid: number, dir: string): Promise<string> {
  process.kill(pid, 'SIGUSR2');
  let file: string | undefined;
  const deadline = Date.now() + 10_000;
  while (!file && Date.now() < deadline) {
    file = (await readdir(dir)).find((f) => f.endsWith('.json'));
    if (!file) await new Promise((r) => setTimeout(r, 50));
  }
  if (!file) return 'V8 heap n/a (no report)';
  await new Promise((r) => setTimeout(r, 200)); // the report is written in one go; give it time to finish
  const heap = (JSON.parse(await readFile(join(dir, file), 'utf8')) as { javascriptHeap: { totalMemory: number; usedMemory: number; heapSpaces: Record<string, { memorySize: number; used: number }> } }).javascriptHeap;
  const spaces = Object.entries(heap.heapSpaces)
    .filter(([, s]) => s.memorySize >= 256 * 1024)
    .map(([name, s]) => `${name.replace(/_space$/, '')} ${mib(s.memorySize)}/${mib(s.used)}`)
    .join(', ');
  return `V8 heap total ${mib(heap.totalMemory)} used ${mib(heap.usedMemory)} MiB (space size/used: ${spaces})`;
}

// An idle `node -e` for the baseline, measured at the same moments as the agent.
function idleNode(): { pid: number; stop: () => void } {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => undefined, 1e9)'], { stdio: 'ignore' });
  return { pid: child.pid ?? 0, stop: () => void child.kill('SIGKILL') };
}

const rssNote = (r: Resident, base: Resident): string =>
  `RSS ${mib(r.rss)} MiB (anon ${mib(r.anon)}, file ${mib(r.file)}), ${r.threads} threads; +${mib(r.rss - base.rss)} MiB over node -e`;

export const agentRssBench: Bench = {
  name: `agent RSS: \`edgeseal agent\` on a swtpm board, telemetry on, idle after READY=1 (goal ≤ ${GOAL_MIB} MiB at READY+${STEADY_MS / 1000} s)`,
  async run(): Promise<BenchResult[]> {
    const swtpm = await startSwtpm();
    const broker = await startBroker();
    const watcher = await mqtt.connectAsync(broker.url);
    const node = idleNode();
    try {
      const board = await setupBoard(swtpm, { telemetry: { broker: broker.url }, fleet: FLEET, logLevel: 'info', update: { schedule: '0 3 * * *' } });
      const online: string[] = [];
      watcher.on('message', (_t, payload) => online.push(payload.toString()));
      await watcher.subscribeAsync(deviceTopics({ prefix: 'edgeseal', fleet: FLEET, deviceId: board.config.deviceId }).status, { qos: 1 });
      const notify = await listenNotify(board.dir);
      const reports = join(board.dir, 'reports');
      await mkdir(reports);
      const nodeOptions = [process.env.NODE_OPTIONS, '--report-on-signal', '--report-signal=SIGUSR2', `--report-directory=${reports}`].filter(Boolean).join(' ');
      const t0 = performance.now();
      // WATCHDOG_USEC as WatchdogSec=30s in systemd/edgeseal-agent.service
      const { child, done } = startCli(['agent', '--config', board.configPath], { NOTIFY_SOCKET: notify.sock, WATCHDOG_USEC: '30000000', NODE_OPTIONS: nodeOptions });
      try {
        await waitFor('READY=1', () => notify.got.some((m) => m.startsWith('READY=1')) || child.exitCode !== null);
        if (child.exitCode !== null) throw new Error(`agent exited ${child.exitCode} before READY=1: ${(await done).err}`);
        const readyMs = performance.now() - t0;
        const pid = child.pid ?? 0;
        const [atReady, baseReady] = await Promise.all([residentOf(pid), residentOf(node.pid)]);
        await waitFor('the retained online status on the broker', () => online.some((p) => p.includes('online')));
        await new Promise((r) => setTimeout(r, STEADY_MS - (performance.now() - t0 - readyMs)));
        const [steady, baseSteady, byMapping] = await Promise.all([residentOf(pid), residentOf(node.pid), residentByMapping(pid)]);
        const heap = await heapReport(pid, reports);
        const met = steady.rss <= GOAL_MIB * MiB ? 'met' : 'NOT met';
        const mappings = Object.entries(byMapping)
          .sort(([, a], [, b]) => b - a)
          .map(([k, v]) => `${k} ${mib(v)}`)
          .join(', ');
        return [
          { op: 'node -e (idle baseline), at READY+30 s', iterations: 1, medianMs: 0, p95Ms: 0, note: `RSS ${mib(baseSteady.rss)} MiB (anon ${mib(baseSteady.anon)}, file ${mib(baseSteady.file)}), ${baseSteady.threads} threads` },
          { op: 'agent at READY=1 (ms: start → READY)', iterations: 1, medianMs: readyMs, p95Ms: readyMs, note: rssNote(atReady, baseReady) },
          { op: `agent at READY+${STEADY_MS / 1000} s, idle`, iterations: 1, medianMs: 0, p95Ms: 0, note: `${rssNote(steady, baseSteady)}; goal ≤ ${GOAL_MIB} MiB ${met}; broker ${broker.name}` },
          { op: 'agent at READY+30 s: resident MiB by mapping', iterations: 1, medianMs: 0, p95Ms: 0, note: `${mappings}; ${heap}` },
        ];
      } finally {
        child.kill('SIGTERM');
        await done;
        await notify.stop();
        await rm(board.dir, { recursive: true, force: true });
      }
    } finally {
      node.stop();
      await watcher.endAsync(true);
      await broker.stop();
      await swtpm.stop();
    }
  },
};
