import { createHash, randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';

const MiB = 1024 * 1024;

// Real bytes for digest benches (never sparse): a random MiB, stamped with its index so no two chunks
// are equal. Returns the file's sha256.
export async function writeImage(path: string, length: number): Promise<string> {
  const fh = await open(path, 'w');
  const hash = createHash('sha256');
  const block = randomBytes(MiB);
  try {
    for (let off = 0; off < length; off += MiB) {
      const chunk = block.subarray(0, Math.min(MiB, length - off));
      chunk.writeUInt32BE(off / MiB, 0);
      hash.update(chunk);
      await fh.write(chunk, 0, chunk.length, off);
    }
  } finally {
    await fh.close();
  }
  return hash.digest('hex');
}
