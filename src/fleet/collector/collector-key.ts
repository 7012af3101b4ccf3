import type { KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { EdgesealError } from '../../core/errors.js';
import { keyFromSeed } from '../../crypto/ed25519.js';
import { privateKeyFromSeed } from '../../telemetry/fast-ed25519.js';

export interface CollectorKey {
  privateKey: KeyObject;
  publicKey: Uint8Array;
  publicHex: string; // goes into each device's telemetry.collectorKey
}

export function collectorKeyFromSeed(seed: Uint8Array): CollectorKey {
  const key = keyFromSeed(seed);
  return { privateKey: privateKeyFromSeed(seed), publicKey: Uint8Array.from(Buffer.from(key.publicHex, 'hex')), publicHex: key.publicHex };
}

// The seed file holds 64 hex characters (e.g. `openssl rand -hex 32 > collector.key`).
export async function loadCollectorKey(path: string): Promise<CollectorKey> {
  let text: string;
  try {
    text = (await readFile(path, 'utf8')).trim();
  } catch (err) {
    throw new EdgesealError('KEY_INVALID', `collector key: expected a readable file, cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  if (!/^[0-9a-fA-F]{64}$/.test(text)) throw new EdgesealError('KEY_INVALID', `collector key ${path}: expected 64 hex characters (an ed25519 seed), found ${text.length} characters`);
  return collectorKeyFromSeed(Uint8Array.from(Buffer.from(text, 'hex')));
}
