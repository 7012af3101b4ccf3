import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { readFile, writeFile } from 'node:fs/promises';
import { readJournal } from '../../src/ota/install-journal.js';
import { startEmbeddedBroker } from '../../src/telemetry/embedded-broker.js';
import { parseEnvelope } from '../../src/telemetry/envelope.js';
import { TpmClient } from '../../src/tpm/client.js';
import { agentPaths, readAgentStatus } from '../../src/agent/agent-state.js';
import { listenNotify } from '../helpers/notify-listener.js';
import { waitFor } from '../helpers/wait-for.js';
import { runCli, startCli } from './cli-child.js';
import { serveRepo } from './repo-server.js';
import { flipByte, REPO, TAMPERED, useBoardRig } from './rig.js';


describe('edgeseal agent / boot-check / update as processes (real swtpm)', function () {
  const rig = useBoardRig(this);

  it('agent: READY=1 with STATUS= after the boot check, WATCHDOG=1 at half of WATCHDOG_USEC, then SIGTERM → STOPPING=1 and exit 0 (through systemd-notify)', async () => {
    const board = await rig.board({ update: { schedule: '0 3 * * *' } });
    const { sock, got, at, stop } = await listenNotify(board.dir);
    const { child, done } = startCli(['agent', '--config', board.configPath], { NOTIFY_SOCKET: sock, WATCHDOG_USEC: '1000000' });
    try {
      await waitFor('READY=1', () => got.some((m) => m.startsWith('READY=1')));
      expect(got.find((m) => m.startsWith('READY=1'))).to.match(/^READY=1\nSTATUS=\d+ image\(s\) verified$/);
      expect(got.filter((m) => /^STATUS=boot check/.test(m)), 'a boot check of small images sends no progress').to.deep.equal([]);
      await waitFor('4 WATCHDOG=1', () => got.filter((m) => m === 'WATCHDOG=1').length >= 4);
      const pings = at.filter((_, i) => got[i] === 'WATCHDOG=1');
      const gaps = pings.slice(1).map((t, i) => t - (pings[i] ?? 0)).sort((a, b) => a - b);
      const median = gaps[gaps.length >> 1] ?? 0;
      expect(median, `gaps ${gaps.map(Math.round).join(', ')} ms`).to.be.within(350, 750); // half of 1 s, not the full second
      const status = JSON.parse((await runCli(['status', '--config', board.configPath, '--json'])).out) as { boot: { action: string }; schedules: Record<string, string> };
      expect(status.boot.action).to.equal('verified');
      expect(Date.parse(status.schedules.update)).to.be.greaterThan(Date.now());
      // every TPM floor is shown, the targets-version floor included
      expect((await runCli(['status', '--config', board.configPath])).out).to.match(/^floors {5}root \d+, security \d+, revocation \d+, targets \d+ {2}\(TPM/m);
      child.kill('SIGTERM');
      const r = await done;
      expect(r.code, r.err).to.equal(0);
      await waitFor('STOPPING=1', () => got.some((m) => m.startsWith('STOPPING=1')));
      expect(got.filter((m) => m.startsWith('STOPPING=1'))).to.deep.equal(['STOPPING=1\nSTATUS=SIGTERM']);
      expect(got.findIndex((m) => m.startsWith('READY=1'))).to.be.lessThan(got.findIndex((m) => m.startsWith('STOPPING=1')));
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await stop();
    }
  });

  it('agent: a fleet check-update nudge runs the update job; SIGHUP reloads the schedules, a bad config is refused', async () => {
    const broker = await startEmbeddedBroker();
    const board = await rig.board({ update: { schedule: '0 3 * * *' }, telemetry: { broker: broker.url }, fleet: 'f1' });
    const { sock, got, stop } = await listenNotify(board.dir);
    const fleet = await mqtt.connectAsync(broker.url);
    const paths = agentPaths(board.config.stateDir);
    const { child, done } = startCli(['agent', '--config', board.configPath], { NOTIFY_SOCKET: sock });
    try {
      await waitFor('READY=1', () => got.some((m) => m.startsWith('READY=1')));
      await fleet.publishAsync('edgeseal/f1/dev-1/cmd', JSON.stringify({ command: 'check-update', id: 't-1' }), { qos: 1 });
      await waitFor('the nudged update to arm a trial', async () => (await readJournal(paths.journal)).state === 'trying');

      const schedules = async (): Promise<Readonly<Record<string, string | null>>> => (await readAgentStatus(paths)).schedules ?? {};
      const raw = JSON.parse(await readFile(board.configPath, 'utf8')) as { update: Record<string, unknown>; revocation?: unknown };
      await writeFile(board.configPath, JSON.stringify({ ...raw, revocation: { schedule: '30 4 * * *' } }));
      child.kill('SIGHUP');
      await waitFor('the revocation job to be scheduled', async () => 'revocation-refresh' in (await schedules()));
      await writeFile(board.configPath, JSON.stringify({ ...raw, onFailure: 'explode' }));
      child.kill('SIGHUP');
      await new Promise((r) => setTimeout(r, 300));
      expect(child.exitCode, 'a bad config on reload keeps the agent running').to.equal(null);
      child.kill('SIGTERM');
      const r = await done;
      expect(r.code, r.err).to.equal(0);
      expect(r.err).to.contain('config reload refused');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await fleet.endAsync(true);
      await stop();
      await broker.close();
    }
  });

  it('agent: a flood of check-update nudges runs one update (the rest coalesced into it); beyond the rate cap they are refused and reported once', async () => {
    const broker = await startEmbeddedBroker();
    const server = await serveRepo(REPO, { stallAfter: 48 * 1024 }); // the nudged update stays in flight
    const board = await rig.board({ update: { schedule: '0 3 * * *', source: server.url }, telemetry: { broker: broker.url }, fleet: 'f1', logLevel: 'debug' });
    const { sock, got, stop } = await listenNotify(board.dir);
    const fleet = await mqtt.connectAsync(broker.url);
    const commands: { verdict: string; code?: string }[] = [];
    fleet.on('message', (_topic, payload) => {
      const e = parseEnvelope(payload).event;
      if (e.type === 'command') commands.push({ verdict: e.verdict, ...(e.code ? { code: e.code } : {}) });
    });
    await fleet.subscribeAsync('edgeseal/f1/dev-1/event', { qos: 1 });
    const { child, done } = startCli(['agent', '--config', board.configPath], { NOTIFY_SOCKET: sock });
    try {
      await waitFor('READY=1', () => got.some((m) => m.startsWith('READY=1')));
      const nudge = JSON.stringify({ command: 'check-update' });
      await Promise.all(Array.from({ length: 30 }, () => fleet.publishAsync('edgeseal/f1/dev-1/cmd', nudge, { qos: 1 })));
      await waitFor('21 command events', () => commands.length >= 21);
      // under load the nudged run may reach its download after the command events: wait for it, not a fixed delay
      await waitFor('the nudged update to start its download', () => server.requests.some((r) => r.path.startsWith('/targets/')));
      await new Promise((r) => setTimeout(r, 300)); // room for a second run or a second RATE_LIMITED event to show up
      // 20 admitted by the cap (burst 20), 10 refused: one RATE_LIMITED event for the stretch, not ten
      expect(commands.filter((c) => c.verdict === 'ok')).to.have.length(20);
      expect(commands.filter((c) => c.verdict === 'refused')).to.deep.equal([{ verdict: 'refused', code: 'RATE_LIMITED' }]);
      const downloads = server.requests.filter((r) => r.path.startsWith('/targets/'));
      expect(downloads, 'one update run, stalled in its download').to.have.length(1);
      expect(server.requests.filter((r) => r.path === '/metadata/timestamp.json')).to.have.length(1);
      child.kill('SIGTERM');
      const r = await done;
      expect(r.code, r.err).to.equal(0);
      expect(r.err.split('request coalesced into that run').length - 1, 'the 19 other admitted nudges joined the running update').to.equal(19);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await fleet.endAsync(true);
      await stop();
      await server.close();
      await broker.close();
    }
  });

  it('agent: a refused boot never sends READY=1 and exits 1', async () => {
    const board = await rig.board();
    await flipByte(board.slots.a);
    const { sock, got, stop } = await listenNotify(board.dir);
    try {
      const r = await runCli(['agent', '--config', board.configPath], { NOTIFY_SOCKET: sock });
      expect(r.code).to.equal(1);
      expect(got.filter((m) => m.startsWith('READY=1'))).to.deep.equal([]);
    } finally {
      await stop();
    }
  });

  it('agent: fails closed when the boot state changed (policy PCR extended): ANCHOR_UNAVAILABLE, no READY, exit 1', async () => {
    const board = await rig.board();
    const tpm = await TpmClient.open({ swtpm: rig.swtpm.address });
    await tpm.pcrExtend(0, [{ hash: 'sha256', digest: new Uint8Array(32).fill(7) }]).finally(() => tpm.close());
    const { sock, got, stop } = await listenNotify(board.dir);
    try {
      const r = await runCli(['agent', '--config', board.configPath], { NOTIFY_SOCKET: sock });
      expect(r.code).to.equal(1);
      expect(r.err).to.contain('ANCHOR_UNAVAILABLE');
      expect(got.filter((m) => m.startsWith('READY=1'))).to.deep.equal([]);
      const status = await runCli(['status', '--config', board.configPath]);
      expect(status.out).to.match(/last boot .* untrusted {2}\[ANCHOR_UNAVAILABLE\]/);
    } finally {
      await stop();
    }
  });

  it('boot-check: with a TPM owner password set, the device reads it from tpm.ownerAuthFile; without it, fails closed with TPM_RC_BAD_AUTH', async () => {
    const board = await rig.board();
    const changeauth = (args: string[]) => promisify(execFile)('tpm2_changeauth', ['-c', 'owner', ...args], { env: { ...process.env, TPM2TOOLS_TCTI: rig.swtpm.tcti } });
    await changeauth(['owner-pw']); // TPM2_HierarchyChangeAuth after provisioning: the NV indices are owner-authorized
    try {
      const blind = await runCli(['boot-check', '--config', board.configPath]);
      expect(blind.code).to.not.equal(0);
      expect(blind.out + blind.err).to.contain('TPM_RC_BAD_AUTH');
      const raw = JSON.parse(await readFile(board.configPath, 'utf8')) as { tpm: Record<string, unknown> };
      await writeFile(board.configPath, JSON.stringify({ ...raw, tpm: { ...raw.tpm, ownerAuthFile: join(board.dir, 'absent.pass') } }));
      const missing = await runCli(['boot-check', '--config', board.configPath]);
      expect(missing.code).to.equal(2);
      expect(missing.out + missing.err).to.contain('CONFIG_INVALID').and.contain(join(board.dir, 'absent.pass'));
      await writeFile(join(board.dir, 'owner.pass'), 'owner-pw\n', { mode: 0o600 });
      await writeFile(board.configPath, JSON.stringify({ ...raw, tpm: { ...raw.tpm, ownerAuthFile: join(board.dir, 'owner.pass') } }));
      const ok = await runCli(['boot-check', '--config', board.configPath]);
      expect(ok.code, ok.out + ok.err).to.equal(0);
    } finally {
      await changeauth(['-p', 'owner-pw']); // back to the empty password for the suite's next boards
    }
  });

  it('boot-check: exit 0 when verified, 1 with the code when refused; config check: exit 2 listing every bad field', async () => {
    const board = await rig.board({ logLevel: 'info' });
    const ok = await runCli(['boot-check', '--config', board.configPath]);
    expect(ok.code, ok.err).to.equal(0);
    expect(ok.out).to.contain('✔');
    // its log (stderr, not a terminal) names the digests; images this small report no progress
    expect(ok.err).to.contain('image digests:').and.not.match(/boot check: \d+%/);
    await flipByte(board.slots.a);
    const bad = await runCli(['boot-check', '--config', board.configPath]);
    expect(bad.code).to.equal(1);
    expect(bad.out).to.contain('[DIGEST_MISMATCH]');
    const cfg = await runCli(['config', 'check', '--config', join(REPO, 'metadata', '1.root.json')]);
    expect(cfg.code).to.equal(2);
    expect(cfg.err).to.contain('CONFIG_INVALID').and.contain('deviceId:').and.contain('hardwareId:').and.contain('images:');
  });

  it('update: exit 1 refused with its code, 3 when the mirror is unreachable; slot A still verifies', async () => {
    const board = await rig.board();
    const refused = await runCli(['update', '--config', board.configPath, '--from', TAMPERED]);
    expect(refused.code).to.equal(1);
    expect(refused.out).to.contain('[DIGEST_MISMATCH]');
    const down = await runCli(['update', '--config', board.configPath, '--from', 'http://127.0.0.1:9/repo']);
    expect(down.code, down.out).to.equal(3);
    expect(down.out).to.contain('[FETCH_FAILED]');
    const boot = await runCli(['boot-check', '--config', board.configPath, '--json']);
    expect((JSON.parse(boot.out) as { ok: boolean }).ok).to.equal(true);
  });

  it('update: SIGKILLed mid-download, the next run resumes it; slot A verifies throughout', async () => {
    const board = await rig.board();
    const server = await serveRepo(REPO, { stallAfter: 48 * 1024 });
    try {
      const journal = agentPaths(board.config.stateDir).journal;
      const { child, done } = startCli(['update', '--config', board.configPath, '--from', server.url]);
      // the stream's offset is journalled only after an fdatasync of the slot (a 2 s checkpoint on a stalled link)
      await waitFor('a durable checkpoint of the stream', async () => ((await readJournal(journal)).install?.offset ?? 0) > 0);
      child.kill('SIGKILL');
      expect((await done).signal).to.equal('SIGKILL');
      expect((await runCli(['boot-check', '--config', board.configPath])).code).to.equal(0);
      const again = await runCli(['update', '--config', board.configPath, '--from', server.url]);
      expect(again.code, again.err).to.equal(0);
      expect((await readJournal(journal)).state).to.equal('trying');
      const ranges = server.requests.filter((r) => r.path.startsWith('/targets/')).map((r) => r.range);
      expect(ranges).to.have.length(2);
      expect(ranges[0]).to.equal(undefined);
      expect(Number(/^bytes=(\d+)-$/.exec(ranges[1] ?? '')?.[1]), 'the second run resumes from the journalled offset').to.be.greaterThan(0);
      expect(await board.boot.state()).to.include({ active: 'A', good: 'A', trySlot: 'B' });
    } finally {
      await server.close();
    }
  });
});
