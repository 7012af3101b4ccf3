import { readFile } from 'node:fs/promises';
import { EdgesealError } from '../core/errors.js';

// Reads TLS material named by a config field (CA, client certificate or key), read at each use so a
// renewed certificate takes effect without a restart. `field` names the config key in the error.
export async function readPemFile(field: string, path: string | undefined): Promise<Buffer | undefined> {
  if (path === undefined) return undefined;
  try {
    return await readFile(path);
  } catch (err) {
    throw new EdgesealError('CONFIG_INVALID', `${field}: expected a readable PEM file at ${path}, found ${(err as Error).message}`, { cause: err });
  }
}
