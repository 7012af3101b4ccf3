import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port.js';

// A real mosquitto broker for tests: generated config, loopback only, free port, stopped by the test.
export interface MosquittoOptions {
  tls?: { caFile: string; certFile: string; keyFile: string; requireClientCert?: boolean };
  users?: Record<string, string>; // enables password_file and disables anonymous access
  acl?: string; // acl_file contents
  extra?: string[]; // more config lines (e.g. from docs/fleet/mosquitto.conf)
}

export interface Mosquitto {
  readonly port: number;
  readonly url: string;
  readonly log: string;
  pid(): number | undefined; // the running broker's process (the load bench reads its CPU time)
  start(): Promise<void>; // (re)starts on the same port
  stop(): Promise<void>;
}

const MOSQUITTO = '/usr/sbin/mosquitto';

async function waitForPort(port: number, child: ChildProcess, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited with code ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`mosquitto did not listen on 127.0.0.1:${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function startMosquitto(opts: MosquittoOptions = {}): Promise<Mosquitto> {
  const dir = await mkdtemp(join(tmpdir(), 'es-mosquitto-'));
  const port = await freePort();
  const lines = [`listener ${port} 127.0.0.1`, `user ${userInfo().username}`, 'persistence true', `persistence_location ${dir}/`, `log_dest file ${join(dir, 'mosquitto.log')}`, 'log_type all'];
  if (opts.users) {
    const pw = join(dir, 'passwd');
    await writeFile(pw, '', { mode: 0o600 });
    for (const [user, pass] of Object.entries(opts.users)) await promisify(execFile)('mosquitto_passwd', ['-b', pw, user, pass]);
    lines.push('allow_anonymous false', `password_file ${pw}`);
  } else lines.push('allow_anonymous true');
  if (opts.acl !== undefined) {
    await writeFile(join(dir, 'acl'), opts.acl);
    lines.push(`acl_file ${join(dir, 'acl')}`);
  }
  lines.push(...(opts.extra ?? []));
  if (opts.tls) {
    lines.push(`cafile ${opts.tls.caFile}`, `certfile ${opts.tls.certFile}`, `keyfile ${opts.tls.keyFile}`);
    if (opts.tls.requireClientCert) lines.push('require_certificate true');
  }
  const conf = join(dir, 'mosquitto.conf');
  await writeFile(conf, `${lines.join('\n')}\n`);
  let child: ChildProcess | undefined;
  const broker: Mosquitto = {
    port,
    url: `${opts.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${port}`,
    log: join(dir, 'mosquitto.log'),
    pid: () => child?.pid,
    async start() {
      const c = spawn(MOSQUITTO, ['-c', conf], { stdio: 'ignore' });
      child = c;
      const spawnFailed = new Promise<never>((_, reject) =>
        c.once('error', (err) => reject(new Error(`cannot run ${MOSQUITTO} (${err.message}); install it: apt-get install mosquitto`))),
      );
      await Promise.race([waitForPort(port, c), spawnFailed]);
    },
    async stop() {
      const c = child;
      child = undefined;
      if (!c || c.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        c.once('exit', () => resolve());
        c.kill('SIGTERM');
      });
    },
  };
  await broker.start();
  return broker;
}
