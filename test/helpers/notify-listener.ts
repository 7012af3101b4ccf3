import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';

// A real NOTIFY_SOCKET (AF_UNIX datagram, as systemd binds it) in `dir`, held by python3 because Node
// cannot open datagram unix sockets. Every datagram arrives in `got`, with its receive time in `at`.
// Plain recv() drops the fd that systemd-notify's BARRIER=1 carries, which closes it: the barrier returns.
const LISTENER = `
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print(json.dumps({"bound": True}), flush=True)
while True:
    msg = s.recv(4096)
    print(json.dumps({"text": msg.decode("utf-8", "replace"), "at": time.monotonic() * 1000}), flush=True)
`;

export interface NotifyListener {
  readonly sock: string;
  readonly got: string[]; // datagrams in arrival order, BARRIER=1 left out
  readonly at: number[]; // receive time of each entry of got (ms, monotonic)
  readonly stop: () => Promise<void>;
}

export async function listenNotify(dir: string): Promise<NotifyListener> {
  const sock = join(dir, 'notify.sock');
  const py = spawn('python3', ['-c', LISTENER, sock], { stdio: ['ignore', 'pipe', 'inherit'] });
  const got: string[] = [];
  const at: number[] = [];
  const exited = new Promise<void>((resolve) => py.on('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    py.on('error', reject);
    void exited.then(() => reject(new Error('python3 notify listener exited before binding')));
    createInterface({ input: py.stdout }).on('line', (line) => {
      const m = JSON.parse(line) as { bound?: boolean; text?: string; at?: number };
      if (m.bound) resolve();
      else if (m.text !== undefined && m.text !== 'BARRIER=1') {
        got.push(m.text);
        at.push(m.at ?? 0);
      }
    });
  });
  return {
    sock,
    got,
    at,
    stop: async () => {
      py.kill();
      await exited;
    },
  };
}
