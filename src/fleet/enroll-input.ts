import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { EdgesealError } from '../core/errors.js';
import { parseEnrollment, parseEnrollmentLines, type Enrollment } from './enrollment.js';

async function readJsonFile(path: string, fleet: string | undefined): Promise<Enrollment> {
  let x: unknown;
  try {
    x = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new EdgesealError('CONFIG_INVALID', `${path}: expected a readable device.json, found: ${(err as Error).message}`, { cause: err });
  }
  return parseEnrollment(x, fleet, path);
}

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

// What `fleet enroll` reads: device.json files, directories of *.json files (one per device), or, with
// no path or '-', JSON lines on stdin. Everything is parsed before anything is enrolled.
export async function readEnrollments(paths: readonly string[], fleet: string | undefined, stdin: Readable): Promise<Enrollment[]> {
  if (paths.length === 0 || (paths.length === 1 && paths[0] === '-')) return parseEnrollmentLines(await readAll(stdin), fleet, 'stdin');
  const out: Enrollment[] = [];
  for (const p of paths) {
    const info = await stat(p).catch((err: Error) => {
      throw new EdgesealError('USAGE', `fleet enroll: expected a device.json file or a directory, cannot read ${p}: ${err.message}`, { cause: err });
    });
    if (!info.isDirectory()) out.push(await readJsonFile(p, fleet));
    else for (const name of (await readdir(p)).filter((n) => n.endsWith('.json')).sort()) out.push(await readJsonFile(join(p, name), fleet));
  }
  return out;
}
