import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openFleetStore } from '../../src/fleet/open-store.js';
import type { FleetStore } from '../../src/fleet/store/port.js';
import { startMosquitto, type Mosquitto } from '../../test/helpers/mosquitto.js';
import { startPostgres, type Postgres } from '../../test/helpers/postgres.js';
import type { LoadGenerator } from './generator.js';
import { FLEET, PREFIX } from './generator.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface RigOptions {
  store: 'sqlite' | 'postgres';
  collectors: number; // > 1: one MQTT 5 shared subscription group over all of them
  sessions: number; // per collector
}

// One load run's servers: a real mosquitto (unbounded queues: the bench must not lose by config), a
// SQLite file or a PostgreSQL server with fsync on, and `edgeseal fleet serve` child processes (the
// real CLI, so their CPU time and RSS are theirs alone). The bench process reads the store to count.
export class Rig {
  readonly children: (ChildProcess | undefined)[] = [];
  private constructor(
    readonly opts: RigOptions,
    readonly dir: string,
    readonly broker: Mosquitto,
    readonly pg: Postgres | undefined,
    readonly db: string,
    readonly store: FleetStore,
  ) {}

  static async start(opts: RigOptions, gen: LoadGenerator): Promise<Rig> {
    const dir = await mkdtemp(join(tmpdir(), 'edgeseal-bench-fleet-'));
    const broker = await startMosquitto({ extra: ['max_queued_messages 0', 'max_inflight_messages 0'] });
    const pg = opts.store === 'postgres' ? await startPostgres({ durable: true }) : undefined;
    const db = pg ? await pg.createDatabase('fleet_load') : join(dir, 'fleet.db');
    const store = await openFleetStore(db);
    for (const e of gen.enrollments) await store.enroll(e, new Date());
    await writeFile(join(dir, 'collector.key'), `${'42'.repeat(32)}\n`, { mode: 0o600 });
    const rig = new Rig(opts, dir, broker, pg, db, store);
    for (let i = 0; i < opts.collectors; i++) await rig.startCollector(i);
    return rig;
  }

  // Starts collector i (again, after a kill: same client ids, so it resumes its sessions).
  async startCollector(i: number): Promise<void> {
    const config = {
      db: this.db, broker: { url: this.broker.url }, prefix: PREFIX, fleets: [FLEET], clientId: `bench-c${i}`,
      collectorKey: join(this.dir, 'collector.key'), http: { port: 0 }, sessions: this.opts.sessions,
      ...(this.opts.collectors > 1 ? { shareGroup: 'bench' } : {}),
    };
    const path = join(this.dir, `fleet-${i}.json`);
    await writeFile(path, JSON.stringify(config));
    const child = spawn(process.execPath, [MAIN, 'fleet', 'serve', '--config', path], { stdio: ['ignore', 'pipe', 'inherit'] });
    this.children[i] = child;
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        if (out.includes('dashboard ')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`fleet serve exited with ${code} before it was ready: ${out}`)));
    });
  }

  // SIGKILL: no shutdown path runs, whatever was received and not committed is not acknowledged.
  async killCollector(i: number): Promise<void> {
    const c = this.children[i];
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGKILL');
    });
  }

  async stop(): Promise<void> {
    for (const c of this.children) {
      if (!c || c.exitCode !== null) continue;
      await new Promise<void>((resolve) => {
        c.once('exit', () => resolve());
        c.kill('SIGTERM');
      });
    }
    await this.store.close();
    await this.broker.stop();
    await this.pg?.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}
