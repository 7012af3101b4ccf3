import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { acquireOutboxLock } from '../../../src/telemetry/outbox/lock.js';
import { expectCodeAsync } from '../../helpers/expect-code.js';

const LOCK_JS = new URL('../../../src/telemetry/outbox/lock.js', import.meta.url).href;
const tempDir = (): Promise<string> => mkdtemp(join(tmpdir(), 'es-lock-'));

// A pid that certainly names no process any more: a child that has exited and been reaped.
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await once(child, 'exit');
  return child.pid!;
}

describe('outbox lock (single writer)', () => {
  it('a second writer is refused OUTBOX_LOCKED naming the holder; after release it gets the lock', async () => {
    const dir = await tempDir();
    const lock = await acquireOutboxLock(dir);
    const err = await expectCodeAsync(() => acquireOutboxLock(dir), 'OUTBOX_LOCKED');
    expect(err.message).to.contain(`pid ${process.pid}`);
    await lock.release();
    await (await acquireOutboxLock(dir)).release();
  });

  it('waits for a live holder up to waitMs', async () => {
    const dir = await tempDir();
    const lock = await acquireOutboxLock(dir);
    setTimeout(() => void lock.release(), 200);
    const t0 = Date.now();
    const next = await acquireOutboxLock(dir, { waitMs: 5000, pollMs: 20 });
    expect(Date.now() - t0).to.be.within(150, 4000);
    await next.release();
  });

  const stale: { name: string; owner: () => Promise<string> }[] = [
    { name: 'an exited process', owner: async () => JSON.stringify({ pid: await deadPid() }) },
    { name: 'a previous boot', owner: () => Promise.resolve(JSON.stringify({ pid: process.pid, bootId: 'another-boot' })) },
    { name: 'a reused pid (different start time)', owner: () => Promise.resolve(JSON.stringify({ pid: process.pid, start: '1' })) },
    { name: 'a garbled file', owner: () => Promise.resolve('{"pid":') },
  ];
  for (const s of stale) {
    it(`takes over a stale lock left by ${s.name}`, async () => {
      const dir = await tempDir();
      await writeFile(join(dir, 'lock'), await s.owner());
      const lock = await acquireOutboxLock(dir);
      expect((JSON.parse(await readFile(lock.path, 'utf8')) as { pid: number }).pid).to.equal(process.pid);
      await lock.release();
    });
  }

  it('across processes: refused while another process holds it, taken once that process is SIGKILLed', async function () {
    this.timeout(20_000);
    const dir = await tempDir();
    const script = `import(${JSON.stringify(LOCK_JS)}).then((m) => m.acquireOutboxLock(${JSON.stringify(dir)})).then(() => { console.log('locked'); setInterval(() => {}, 1000); });`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await once(child.stdout, 'data');
      const err = await expectCodeAsync(() => acquireOutboxLock(dir, { waitMs: 300, pollMs: 50 }), 'OUTBOX_LOCKED');
      expect(err.message).to.contain(`pid ${child.pid}`);
    } finally {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
    const lock = await acquireOutboxLock(dir);
    await lock.release();
  });
});
