import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ImageRef, SlotBackend } from '../../src/ota/slot.js';
import { otherSlot } from '../../src/ota/slot.js';
import { FileSlotBackend } from '../../src/ota/slot-file.js';
import { BlockSlotBackend } from '../../src/ota/slot-block.js';
import { deviceNumbers, partitionBytes, sysfsBlockBytes } from '../../src/ota/slot-size.js';
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

// Writes `img` into `slot` as the streaming installer does: fresh open, positional chunks, finish, fdatasync.
async function put(backend: SlotBackend, slot: 'A' | 'B', img: { bytes: Buffer; ref: ImageRef }): Promise<void> {
  const w = await backend.open(slot, img.ref, true);
  try {
    for (let pos = 0; pos < img.bytes.length; pos += 1024 * 1024) await w.write(img.bytes.subarray(pos, pos + 1024 * 1024), pos);
    await w.finish(img.ref.length);
    await w.datasync();
  } finally {
    await w.close();
  }
}

// The same contract for every slot backend.
function slotContract(name: string, build: () => Promise<Fixture>): void {
  describe(`${name}: slot backend contract`, () => {
    it('takes an image (more than one chunk) and measures it back', async () => {
      const { dir, backend } = await build();
      const img = await image(dir, 'v2.img', 1024 * 1024 + 4321);
      await put(backend, 'B', img);
      expect(await backend.measure('B', img.ref.length)).to.deep.equal(img.ref);
    });

    it('replaces an earlier image whole', async () => {
      const { dir, backend } = await build();
      const one = await image(dir, 'one.img', 300_000);
      const two = await image(dir, 'second.img', 200_000);
      await put(backend, 'A', one);
      await put(backend, 'A', two);
      expect(await backend.measure('A', two.ref.length)).to.deep.equal(two.ref);
    });

    it('reports a capacity that holds the images it takes', async () => {
      const { backend } = await build();
      expect(await backend.capacity('B')).to.be.at.least(1024 * 1024 + 4321);
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
  it('writes the slot file in place (no temp file) and refuses a slot whose directory does not exist', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'es-slot-'));
    const backend = new FileSlotBackend({ A: join(dir, 'a', 'app.img'), B: join(dir, 'b.img') });
    const img = await image(dir, 'src.img', 5000);
    await put(backend, 'B', img);
    expect((await readdir(dir)).sort()).to.deep.equal(['b.img', 'src.img']);
    expect(backend.location('B')).to.equal(join(dir, 'b.img'));
    await expectCodeAsync(() => put(backend, 'A', img), 'STORAGE_ERROR');
  });

  it('counts the file it replaces as room: capacity = free space + the current slot file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'es-slot-'));
    const backend = new FileSlotBackend({ A: join(dir, 'a.img'), B: join(dir, 'b.img') });
    const empty = await backend.capacity('B');
    await writeFile(join(dir, 'b.img'), Buffer.alloc(1_000_000));
    // other engineers share the disk: allow 64 MiB of drift between the two statfs calls
    expect(Math.abs((await backend.capacity('B')) - empty)).to.be.below(64 * 1024 * 1024);
    expect(await backend.capacity('B')).to.be.at.least(1_000_000);
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
    await put(backend, 'B', img);
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
    await expectCodeAsync(() => new BlockSlotBackend(devices).open('A', img.ref, true), 'INSUFFICIENT_SPACE');
    expect((await stat(devices.A)).size).to.equal(PARTITION_SIZE);
    const missing = new BlockSlotBackend({ A: join(dir, 'nope'), B: devices.B });
    await expectCodeAsync(() => missing.open('A', img.ref, true), 'STORAGE_ERROR');
    await expectCodeAsync(() => missing.measure('A', 10), 'STORAGE_ERROR');
    expect(await readdir(dir)).not.to.include('nope');
  });
});

describe('slot sizes (block devices stat as 0 bytes)', () => {
  it('splits dev_t as glibc does', () => {
    expect(deviceNumbers(0x0803n)).to.deep.equal({ major: 8, minor: 3 }); // sda3
    expect(deviceNumbers(0xb302n)).to.deep.equal({ major: 179, minor: 2 }); // mmcblk0p2
    expect(deviceNumbers(0x110300n)).to.deep.equal({ major: 259, minor: 0x100 }); // nvme, minor ≥ 256
  });

  it('reads /sys/dev/block/MAJ:MIN/size in 512-byte sectors from the given sysfs root', async () => {
    const sys = await mkdtemp(join(tmpdir(), 'es-sysfs-'));
    await mkdir(join(sys, 'dev', 'block', '179:2'), { recursive: true });
    await writeFile(join(sys, 'dev', 'block', '179:2', 'size'), '2097152\n');
    expect(await sysfsBlockBytes(sys, 179, 2)).to.equal(1024 ** 3);
    await expectCodeAsync(() => sysfsBlockBytes(sys, 179, 3), 'STORAGE_ERROR');
    await writeFile(join(sys, 'dev', 'block', '179:2', 'size'), 'lots');
    await expectCodeAsync(() => sysfsBlockBytes(sys, 179, 2), 'STORAGE_ERROR');
  });

  it('takes the size of a stand-in file for a partition that is a regular file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'es-slot-'));
    const devices = await partitions(dir);
    expect(await partitionBytes(devices.A, join(dir, 'no-sysfs'))).to.equal(PARTITION_SIZE);
    expect(await new BlockSlotBackend(devices, join(dir, 'no-sysfs')).capacity('B')).to.equal(PARTITION_SIZE);
  });
});
