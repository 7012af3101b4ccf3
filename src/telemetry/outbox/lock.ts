import { randomBytes } from 'node:crypto';
import { link, readFile, unlink, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { EdgesealError } from '../../core/errors.js';

// Single writer per outbox directory: two processes appending would hand out the same sequence
// numbers. An advisory lock file `<dir>/lock` holds its owner { pid, bootId, start }; a lock whose
// owner is gone (another boot, no such pid, or the pid reused by a younger process) is stale.

export interface LockOwner {
  readonly pid: number;
  readonly bootId?: string;
  readonly start?: string; // process start time in clock ticks since boot (/proc/<pid>/stat field 22)
}

export interface OutboxLock {
  readonly path: string;
  release(): Promise<void>;
}

export interface LockOptions {
  readonly waitMs?: number; // how long to wait for a live holder to let go (default 0)
  readonly pollMs?: number;
}

async function procText(path: string): Promise<string | undefined> {
  return readFile(path, 'utf8').then((t) => t.trim(), () => undefined);
}

// Field 22 of /proc/<pid>/stat; the command name (field 2) may hold spaces, so count after its ')'.
async function startTime(pid: number): Promise<string | undefined> {
  const stat = await procText(`/proc/${pid}/stat`);
  return stat?.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

async function describe(pid: number): Promise<LockOwner> {
  const [bootId, start] = await Promise.all([procText('/proc/sys/kernel/random/boot_id'), startTime(pid)]);
  return { pid, ...(bootId ? { bootId } : {}), ...(start ? { start } : {}) };
}

export async function isOwnerAlive(owner: LockOwner): Promise<boolean> {
  const now = await describe(owner.pid);
  if (owner.bootId && now.bootId && owner.bootId !== now.bootId) return false; // written before a reboot
  try {
    process.kill(owner.pid, 0); // signal 0: existence check only
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  return !(owner.start && now.start && owner.start !== now.start);
}

// undefined: no lock file; null: garbled (links only ever create whole ones, so nobody owns it)
async function readOwner(path: string): Promise<LockOwner | null | undefined> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    const o = JSON.parse(text) as LockOwner;
    return Number.isSafeInteger(o.pid) && o.pid > 0 ? o : null;
  } catch {
    return null;
  }
}

function storageError(path: string, err: unknown): EdgesealError {
  return new EdgesealError('STORAGE_ERROR', `outbox lock ${path}: ${(err as Error).message}`, { cause: err });
}

// Takes the lock or throws OUTBOX_LOCKED naming the live holder once `waitMs` has passed.
export async function acquireOutboxLock(dir: string, opts: LockOptions = {}): Promise<OutboxLock> {
  const path = join(dir, 'lock');
  const me = await describe(process.pid);
  const deadline = Date.now() + (opts.waitMs ?? 0);
  await mkdir(dir, { recursive: true, mode: 0o700 }).catch((err: unknown) => {
    throw storageError(path, err);
  });
  // the owner is written to a temp file first and hard-linked into place: link(2) fails if the lock
  // exists, and a lock never appears without its owner in it
  const tmp = join(dir, `.lock.${process.pid}.${randomBytes(4).toString('hex')}`);
  await writeFile(tmp, JSON.stringify(me), { mode: 0o600 }).catch((err: unknown) => {
    throw storageError(tmp, err);
  });
  try {
    for (;;) {
      try {
        await link(tmp, path);
        return { path, release: () => unlink(path).catch(() => undefined) };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw storageError(path, err);
      }
      const holder = await readOwner(path);
      if (holder === undefined) continue; // released meanwhile
      if (holder === null || !(await isOwnerAlive(holder))) {
        await unlink(path).catch(() => undefined); // stale: its owner is gone
        continue;
      }
      if (Date.now() >= deadline) {
        throw new EdgesealError(
          'OUTBOX_LOCKED',
          `outbox ${dir}: expected no other writer, found pid ${holder.pid} holding ${path} (the running agent?). ` +
            'Let the agent run it (fleet nudge check-update), or stop it (systemctl stop edgeseal-agent) and try again',
        );
      }
      await sleep(opts.pollMs ?? 100);
    }
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}
