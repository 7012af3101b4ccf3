import { createHash } from 'node:crypto';
import { keyFromSeed, type SigningKey } from '../src/crypto/ed25519.js';

// Everything the fixtures contain is derived from fixed labels, so regenerating is byte-identical.

// An ed25519 key whose seed is sha256("edgeseal-fixtures/key/<label>").
export function fixtureKey(label: string): SigningKey {
  return keyFromSeed(createHash('sha256').update(`edgeseal-fixtures/key/${label}`).digest());
}

// Pseudo-random image bytes: sha256(label ‖ counter) blocks, cut to length.
export function imageBytes(label: string, length: number): Uint8Array {
  const out = Buffer.alloc(length);
  for (let i = 0, off = 0; off < length; i++, off += 32) {
    const block = createHash('sha256').update(`edgeseal-fixtures/image/${label}/${i}`).digest();
    block.copy(out, off, 0, Math.min(32, length - off));
  }
  return out;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export const T0 = new Date('2026-01-01T00:00:00Z');

export function hoursAfter(base: Date, hours: number): Date {
  return new Date(base.getTime() + hours * 3600_000);
}
