import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SlotBackend } from '../../src/ota/slot.js';
import { BlockSlotBackend } from '../../src/ota/slot-block.js';
import { streamIntoSlot } from '../../src/ota/stream-install.js';
import { publishedTargetPath, type TargetRef } from '../../src/ota/target-path.js';
import { expectCodeAsync } from '../helpers/expect-code.js';
import { bytesFor } from './install-rig.js';
import { streamRig } from './slot-stream.js';

// The slot side of streaming: checkpoints only after fdatasync, resume by re-hashing the slot, the
// one retry from 0 of a resumed stream, the re-read before the slot counts as written.
const IMAGE = bytesFor('stream', 1_300_000);
const TARGET: TargetRef = { name: 'fw/fw.bin', length: IMAGE.length, sha256: createHash('sha256').update(IMAGE).digest('hex') };

async function usb(body: Uint8Array): Promise<{ kind: 'dir'; path: string }> {
  const root = await mkdtemp(join(tmpdir(), 'es-usb-'));
  const file = join(root, 'targets', publishedTargetPath(TARGET));
  await mkdir(join(file, '..'), { recursive: true });
  await writeFile(file, body);
  return { kind: 'dir', path: root };
}

describe('streaming install into a slot', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'es-stream-'));
  });

  it('writes the right bytes, and every journalled offset follows an fdatasync covering it', async () => {
    const rig = await streamRig(dir, { checkpointBytes: 300_000 });
    await rig.run({ source: await usb(IMAGE), target: TARGET });
    expect((await rig.slotBytes()).equals(IMAGE)).to.be.true;
    const checkpoints = rig.log.flatMap((l, i) => (l.startsWith('checkpoint') ? [i] : []));
    expect(checkpoints.length).to.be.greaterThan(1);
    for (const i of checkpoints) {
      const offset = Number(rig.log[i]?.split(' ')[1]);
      if (offset === 0) continue;
      // the write that ended at `offset`, then an fdatasync that completed after it, then the checkpoint
      const wrote = rig.log.findIndex((l) => new RegExp(`^write \\d+-${offset}$`).test(l));
      expect(wrote, `checkpoint ${offset} must end at a write`).to.be.within(0, i);
      expect(rig.log.slice(wrote, i), `checkpoint ${offset} must follow a datasync`).to.include('datasync');
    }
    expect(rig.log.at(-2)).to.equal(`finish ${IMAGE.length}`);
  });

  it('cuts a longer old image in a file slot to the new length', async () => {
    const rig = await streamRig(dir, { prefix: bytesFor('old', 2_000_000) });
    await rig.run({ source: await usb(IMAGE), target: TARGET });
    expect((await rig.slotBytes()).equals(IMAGE)).to.be.true;
  });

  it('retries a resumed stream that ends in a mismatch once from 0, journalled, and then succeeds', async () => {
    const rig = await streamRig(dir, { prefix: Buffer.alloc(500_000, 0xee), offset: 500_000 });
    await rig.run({ source: await usb(IMAGE), target: TARGET });
    expect((await rig.slotBytes()).equals(IMAGE)).to.be.true;
    expect(rig.restarted).to.be.true;
    expect(rig.log.filter((l) => l.startsWith('open'))).to.deep.equal(['open resume', 'open fresh']);
  });

  it('calls a mismatch DIGEST_MISMATCH after the retry from 0, and once the retry is spent', async () => {
    const evil = Buffer.from(IMAGE);
    evil[evil.length - 1] ^= 1;
    const source = await usb(evil);
    const rig = await streamRig(dir, { prefix: IMAGE.subarray(0, 500_000), offset: 500_000 });
    await expectCodeAsync(() => rig.run({ source, target: TARGET }), 'DIGEST_MISMATCH');
    expect(rig.log.filter((l) => l.startsWith('open'))).to.deep.equal(['open resume', 'open fresh']);
    rig.offset = 500_000;
    rig.log.length = 0;
    await expectCodeAsync(() => rig.run({ source, target: TARGET }), 'DIGEST_MISMATCH');
    expect(rig.log.filter((l) => l.startsWith('open'))).to.deep.equal(['open resume']);
  });

  it('starts at 0 (journalled first) when the slot holds less than the journalled offset', async () => {
    const rig = await streamRig(dir, { prefix: IMAGE.subarray(0, 100_000), offset: 600_000 });
    await rig.run({ source: await usb(IMAGE), target: TARGET });
    expect((await rig.slotBytes()).equals(IMAGE)).to.be.true;
    expect(rig.log.slice(0, 2)).to.deep.equal(['checkpoint 0', 'open fresh']);
  });

  it('refuses DIGEST_MISMATCH when the re-read of the slot differs from the stream (a misdirected write)', async () => {
    const rig = await streamRig(dir);
    const lying: SlotBackend = {
      ...rig.slots,
      open: async (s, image, fresh) => {
        const w = await rig.slots.open(s, image, fresh);
        return { ...w, write: (chunk, pos) => w.write(chunk, pos + 1) };
      },
    };
    const source = await usb(IMAGE);
    const err = await expectCodeAsync(() => streamIntoSlot({ source, target: TARGET, slots: lying, slot: 'B', offset: 0, restarted: false, checkpoint: () => Promise.resolve() }), 'DIGEST_MISMATCH');
    expect(err.message).to.match(/re-read after writing/);
  });

  it('refuses INSUFFICIENT_SPACE for a partition smaller than the image, before writing', async () => {
    const devices = { A: join(dir, 'p2'), B: join(dir, 'p3') };
    await writeFile(devices.A, Buffer.alloc(10));
    await writeFile(devices.B, Buffer.alloc(1_000_000, 7));
    const slots = new BlockSlotBackend(devices);
    const source = await usb(IMAGE);
    await expectCodeAsync(() => streamIntoSlot({ source, target: TARGET, slots, slot: 'B', offset: 0, restarted: false, checkpoint: () => Promise.resolve() }), 'INSUFFICIENT_SPACE');
    expect((await readFile(devices.B)).equals(Buffer.alloc(1_000_000, 7))).to.be.true;
  });
});
