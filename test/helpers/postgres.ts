import { execFile } from 'node:child_process';
import { chown, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './free-port.js';

// A real PostgreSQL for tests: initdb into a temp dir, pg_ctl on a free loopback port, stopped by the
// test. PostgreSQL refuses to run as root, so as root the server runs as the Debian `postgres` user
// (runuser); as any other user it runs as that user.
export interface Postgres {
  readonly port: number;
  createDatabase(name: string): Promise<string>; // returns a connection string
  pid(): Promise<number>; // the postmaster (the load bench reads the CPU time of it and its children)
  stop(): Promise<void>;
}

const BIN = '/usr/lib/postgresql/15/bin';
const run = promisify(execFile);

async function asServerUser(cmd: string, args: string[]): Promise<void> {
  const argv = process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', join(BIN, cmd), ...args]] as const : [join(BIN, cmd), args] as const;
  try {
    await run(argv[0], [...argv[1]], { timeout: 60_000 });
  } catch (err) {
    throw new Error(`${cmd} failed (${(err as Error).message}); PostgreSQL 15 comes from: apt-get install postgresql`, { cause: err });
  }
}

// `durable`: keep fsync on (the load bench measures commits as production pays for them); tests turn it off.
export async function startPostgres(opts: { durable?: boolean } = {}): Promise<Postgres> {
  const dir = await mkdtemp(join(tmpdir(), 'es-pg-'));
  if (process.getuid?.() === 0) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    await chown(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const data = join(dir, 'data');
  const port = await freePort();
  await asServerUser('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale', 'C']);
  await asServerUser('pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-w', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1${opts.durable ? '' : ' -c fsync=off'}`, 'start']);
  const admin = `postgresql://postgres@127.0.0.1:${port}/postgres`;
  return {
    port,
    async createDatabase(name) {
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      try {
        await c.query(`CREATE DATABASE "${name}"`);
      } finally {
        await c.end();
      }
      return `postgresql://postgres@127.0.0.1:${port}/${name}`;
    },
    pid: async () => Number((await readFile(join(data, 'postmaster.pid'), 'utf8')).split('\n')[0]),
    async stop() {
      await asServerUser('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

