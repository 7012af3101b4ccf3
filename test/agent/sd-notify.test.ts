import { expect } from 'chai';
import { createRequire } from 'node:module';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNotifier, watchdogInterval } from '../../src/agent/sd-notify.js';

interface ServerSocket {
  bind(path: string): void;
  on(event: 'message', cb: (msg: Buffer) => void): void;
  close(): void;
}
const unixDgram = createRequire(import.meta.url)('unix-dgram') as { createSocket(type: 'unix_dgram'): ServerSocket };

describe('sd_notify', () => {
  it('sends READY, STATUS, WATCHDOG and STOPPING datagrams to a real NOTIFY_SOCKET', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'es-notify-')), 'notify.sock');
    const server = unixDgram.createSocket('unix_dgram');
    const received: string[] = [];
    const got4 = new Promise<void>((resolve) =>
      server.on('message', (msg) => {
        received.push(msg.toString());
        if (received.length === 4) resolve();
      }),
    );
    server.bind(path);
    const n = createNotifier({ NOTIFY_SOCKET: path, WATCHDOG_USEC: '10000000' });
    try {
      expect(n.enabled).to.equal(true);
      expect(n.watchdogIntervalMs).to.equal(5000);
      n.ready('3 images verified');
      n.status('idle');
      n.watchdog();
      n.stopping();
      await got4;
      expect(received).to.deep.equal(['READY=1\nSTATUS=3 images verified', 'STATUS=idle', 'WATCHDOG=1', 'STOPPING=1']);
    } finally {
      n.close();
      server.close();
    }
  });

  it('is a silent no-op without NOTIFY_SOCKET', () => {
    const n = createNotifier({});
    expect(n.enabled).to.equal(false);
    n.ready();
    n.close();
  });

  it('only answers a watchdog meant for this process', () => {
    expect(watchdogInterval({ WATCHDOG_USEC: '2000000', WATCHDOG_PID: '42' }, 42)).to.equal(1000);
    expect(watchdogInterval({ WATCHDOG_USEC: '2000000', WATCHDOG_PID: '41' }, 42)).to.equal(undefined);
    expect(watchdogInterval({}, 42)).to.equal(undefined);
  });
});
