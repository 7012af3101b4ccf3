import { readFile } from 'node:fs/promises';
import { EdgesealError } from '../core/errors.js';
import { parseConfig, type AgentConfig } from '../config/schema.js';
import { DEFAULT_CONFIG_PATH } from './config-path.js';

export { DEFAULT_CONFIG_PATH };
// A config is a few KiB; anything much larger is not one.
const MAX_CONFIG_BYTES = 1024 * 1024;

// Reads and validates the agent config; every problem is CONFIG_INVALID naming the file.
export async function loadConfig(path: string = DEFAULT_CONFIG_PATH): Promise<AgentConfig> {
  let text: string;
  try {
    const bytes = await readFile(path);
    if (bytes.length > MAX_CONFIG_BYTES) throw new Error(`expected at most ${MAX_CONFIG_BYTES} bytes, found ${bytes.length}`);
    text = bytes.toString('utf8');
  } catch (err) {
    throw new EdgesealError('CONFIG_INVALID', `config ${path}: cannot read it (${(err as Error).message}); pass --config FILE`, { cause: err });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new EdgesealError('CONFIG_INVALID', `config ${path}: expected JSON, found a parse error: ${(err as Error).message}`, { cause: err });
  }
  return parseConfig(raw, path);
}
