import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNotifier, watchdogInterval } from '../../src/agent/sd-notify.js';
import { listenNotify, type NotifyListener } from '../helpers/notify-listener.js';

async function until(what: string, cond: () => boolean): Promise<void> {
  for (let i = 0; i < 250 && !cond(); i++) await new Promise((r) => setTimeout(r, 20));
  expect(cond(), what).to.equal(true);
}

describe('sd_notify through systemd-notify (no compiled addon)', () => {
  let dir: string;
  let listener: NotifyListener;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'es-notify-'));
    listener = await listenNotify(dir);
  });
  afterEach(async () => {
    await listener.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('sends READY, STATUS, WATCHDOG and STOPPING datagrams, in order, to a real NOTIFY_SOCKET', async () => {
    const errors: Error[] = [];
    const n = createNotifier({ NOTIFY_SOCKET: listener.sock, WATCHDOG_USEC: '10000000', PATH: process.env.PATH }, { onError: (e) => errors.push(e) });
    expect(n.enabled).to.equal(true);
    expect(n.watchdogIntervalMs).to.equal(5000);
    n.ready('3 images verified');
    n.status('idle\nMAINPID=1'); // a newline cannot add an assignment
    n.watchdog();
    n.stopping();
    await n.close();
    await until('4 datagrams', () => listener.got.length === 4);
    expect(listener.got).to.deep.equal(['READY=1\nSTATUS=3 images verified', 'STATUS=idle MAINPID=1', 'WATCHDOG=1', 'STOPPING=1']);
    expect(errors).to.deep.equal([]);
  });

  it('a WATCHDOG=1 still waiting to be sent makes the next ones redundant', async () => {
    const n = createNotifier({ NOTIFY_SOCKET: listener.sock, PATH: process.env.PATH });
    for (let i = 0; i < 5; i++) n.watchdog();
    await n.close();
    n.watchdog();
    await n.close();
    await until('2 datagrams', () => listener.got.length === 2);
    expect(listener.got).to.deep.equal(['WATCHDOG=1', 'WATCHDOG=1']);
  });

  it('without systemd-notify: one clear warning, then silence', async () => {
    const errors: Error[] = [];
    const n = createNotifier({ NOTIFY_SOCKET: listener.sock, PATH: dir }, { onError: (e) => errors.push(e) });
    n.ready();
    n.watchdog();
    n.stopping();
    await n.close();
    expect(errors).to.have.length(1);
    expect(errors[0]?.message).to.contain('systemd-notify was not found on PATH').and.contain('READY=1');
    expect(listener.got).to.deep.equal([]);
  });

  it('reports a failed hand-over once per run of failures (socket gone)', async () => {
    const errors: Error[] = [];
    const n = createNotifier({ NOTIFY_SOCKET: join(dir, 'absent.sock'), PATH: process.env.PATH }, { onError: (e) => errors.push(e) });
    n.ready();
    n.watchdog();
    await n.close();
    expect(errors).to.have.length(1);
    expect(errors[0]?.message).to.match(/^systemd-notify READY=1: exit 1: .*No such file or directory/);
  });

  it('is a silent no-op without NOTIFY_SOCKET', async () => {
    const errors: Error[] = [];
    const n = createNotifier({ PATH: process.env.PATH }, { onError: (e) => errors.push(e) });
    expect(n.enabled).to.equal(false);
    n.ready();
    n.watchdog();
    await n.close();
    expect(errors).to.deep.equal([]);
  });

  it('only answers a watchdog meant for this process, at half of WATCHDOG_USEC', () => {
    expect(watchdogInterval({ WATCHDOG_USEC: '2000000', WATCHDOG_PID: '42' }, 42)).to.equal(1000);
    expect(watchdogInterval({ WATCHDOG_USEC: '2000000', WATCHDOG_PID: '41' }, 42)).to.equal(undefined);
    expect(watchdogInterval({}, 42)).to.equal(undefined);
  });
});
