import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ImageRef, SlotBackend } from '../../src/ota/slot.js';
import { otherSlot } from '../../src/ota/slot.js';
import { FileSlotBackend } from '../../src/ota/slot-file.js';
import { BlockSlotBackend } from '../../src/ota/slot-block.js';
import { expectCodeAsync } from '../helpers/expect-code.js';

const PARTITION_SIZE = 4 * 1024 * 1024;

async function image(dir: string, name: string, length: number): Promise<{ path: string; ref: ImageRef; bytes: Buffer }> {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + name.length * 7) & 0xff;
  const path = join(dir, name);
  await writeFile(path, bytes);
  return { path, bytes, ref: { length, sha256: createHash('sha256').update(bytes).digest('hex') } };
}

interface Fixture {
  dir: string;
  backend: SlotBackend;
}

// The same contract for every slot backend.
function slotContract(name: string, build: () => Promise<Fixture>): void {
  describe(`${name}: slot backend contract`, () => {
    it('stages an image (more than one chunk) and measures it back', async () => {
      const { dir, backend } = await build();
      const img = await image(dir, 'v2.img', 1024 * 1024 + 4321);
      await backend.stage('B', img.path, img.ref);
      expect(await backend.measure('B', img.ref.length)).to.deep.equal(img.ref);
    });

    it('replaces an earlier image whole', async () => {
      const { dir, backend } = await build();
      const one = await image(dir, 'one.img', 300_000);
      const two = await image(dir, 'second.img', 200_000);
      await backend.stage('A', one.path, one.ref);
      await backend.stage('A', two.path, two.ref);
      expect(await backend.measure('A', two.ref.length)).to.deep.equal(two.ref);
    });

    it('refuses DIGEST_MISMATCH when the bytes written are not the signed image', async () => {
      const { dir, backend } = await build();
      const img = await image(dir, 'v2.img', 100_000);
      await writeFile(img.path, Buffer.concat([img.bytes.subarray(0, 99_999), Buffer.from([img.bytes[99_999] ^ 1])]));
      await expectCodeAsync(() => backend.stage('B', img.path, img.ref), 'DIGEST_MISMATCH');
    });

    it('refuses LENGTH_MISMATCH when the source is shorter than the signed length', async () => {
      const { dir, backend } = await build();
      const img = await image(dir, 'v2.img', 100_000);
      await expectCodeAsync(() => backend.stage('B', img.path, { ...img.ref, length: 100_001 }), 'LENGTH_MISMATCH');
    });
  });
}

slotContract('FileSlotBackend', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'es-slot-'));
  return { dir, backend: new FileSlotBackend({ A: join(dir, 'slot-a.img'), B: join(dir, 'slot-b.img') }) };
});

async function partitions(dir: string): Promise<Record<'A' | 'B', string>> {
  const devices = { A: join(dir, 'p2'), B: join(dir, 'p3') };
  await writeFile(devices.A, Buffer.alloc(PARTITION_SIZE, 0xaa));
  await writeFile(devices.B, Buffer.alloc(PARTITION_SIZE, 0xbb));
  return devices;
}

slotContract('BlockSlotBackend', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'es-slot-'));
  return { dir, backend: new BlockSlotBackend(await partitions(dir)) };
});

describe('FileSlotBackend', () => {
  it('leaves no temp file behind and overwrites a leftover from a crashed staging', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'es-slot-'));
    const backend = new FileSlotBackend({ A: join(dir, 'a', 'app.img'), B: join(dir, 'b.img') });
    await writeFile(join(dir, 'b.img.staging'), 'torn half of an earlier attempt');
    const img = await image(dir, 'src.img', 5000);
    await backend.stage('B', img.path, img.ref);
    expect((await readdir(dir)).sort()).to.deep.equal(['b.img', 'src.img']);
    expect(backend.location('B')).to.equal(join(dir, 'b.img'));
    await expectCodeAsync(() => backend.stage('A', img.path, img.ref), 'STORAGE_ERROR'); // its directory does not exist
  });

  it('measures a slot file longer than the image as OVERSIZED, not as a match', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'es-slot-'));
    const backend = new FileSlotBackend({ A: join(dir, 'a.img'), B: join(dir, 'b.img') });
    await writeFile(join(dir, 'a.img'), Buffer.alloc(10));
    await expectCodeAsync(() => backend.measure('A', 9), 'OVERSIZED');
  });
});

describe('BlockSlotBackend', () => {
  it('writes from byte 0 without truncating the partition, and never touches the other slot', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'es-slot-'));
    const devices = await partitions(dir);
    const backend = new BlockSlotBackend(devices);
    const img = await image(dir, 'v2.img', 123_456);
    await backend.stage('B', img.path, img.ref);
    const b = await readFile(devices.B);
    expect(b.length).to.equal(PARTITION_SIZE);
    expect(b.subarray(0, img.ref.length).equals(img.bytes)).to.be.true;
    expect(b.subarray(img.ref.length).every((x) => x === 0xbb)).to.be.true;
    expect((await readFile(devices[otherSlot('B')])).every((x) => x === 0xaa)).to.be.true;
  });

  it('refuses INSUFFICIENT_SPACE for an image larger than the partition, and never creates a missing one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'es-slot-'));
    const devices = await partitions(dir);
    const img = await image(dir, 'big.img', PARTITION_SIZE + 1);
    await expectCodeAsync(() => new BlockSlotBackend(devices).stage('A', img.path, img.ref), 'INSUFFICIENT_SPACE');
    expect((await stat(devices.A)).size).to.equal(PARTITION_SIZE);
    const missing = new BlockSlotBackend({ A: join(dir, 'nope'), B: devices.B });
    await expectCodeAsync(() => missing.stage('A', img.path, img.ref), 'STORAGE_ERROR');
    await expectCodeAsync(() => missing.measure('A', 10), 'STORAGE_ERROR');
    expect(await readdir(dir)).not.to.include('nope');
  });
});
