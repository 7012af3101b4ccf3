import { readFile } from 'node:fs/promises';

// Resident memory of a running process, from the kernel's own accounting (/proc/PID/smaps_rollup).
export interface Resident {
  readonly rss: number; // bytes
  readonly anon: number; // anonymous pages: V8 heap, malloc arenas, thread stacks
  readonly file: number; // file-backed pages: mostly the node binary (its code, V8 snapshot, ICU data)
  readonly threads: number;
}

const kib = (text: string, field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN) * 1024;

export async function residentOf(pid: number): Promise<Resident> {
  const [rollup, status] = await Promise.all([readFile(`/proc/${pid}/smaps_rollup`, 'utf8'), readFile(`/proc/${pid}/status`, 'utf8')]);
  const rss = kib(rollup, 'Rss');
  const anon = kib(rollup, 'Anonymous');
  return { rss, anon, file: rss - anon - kib(rollup, 'Pss_Shmem'), threads: Number(/^Threads:\s+(\d+)/m.exec(status)?.[1]) };
}

// Resident bytes per kind of mapping (/proc/PID/smaps): what the binary's text, its read-only data (V8
// snapshot, ICU data, builtins), other files, the malloc heap and the other anonymous mappings hold.
export async function residentByMapping(pid: number): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  let kind = '';
  for (const line of (await readFile(`/proc/${pid}/smaps`, 'utf8')).split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ (\S{4}) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      const [, perms, path] = head;
      const node = /\/node$/.test(path);
      if (node) kind = perms.includes('x') ? 'node text' : perms.includes('w') ? 'node data' : 'node rodata';
      else if (path === '[heap]') kind = 'malloc brk heap';
      else if (path === '[stack]') kind = 'main stack';
      else if (path.startsWith('/')) kind = 'other files';
      else kind = 'other anon';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) out[kind] = (out[kind] ?? 0) + Number(rss[1]) * 1024;
  }
  return out;
}
