import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DownloadRequest } from '../../src/ota/download.js';
import { FileSlotBackend } from '../../src/ota/slot-file.js';
import type { SlotBackend } from '../../src/ota/slot.js';
import { streamIntoSlot } from '../../src/ota/stream-install.js';

// A file slot B to stream into, with the journal's offset/restarted kept in memory and every
// slot call and checkpoint logged in order (so tests can check "checkpoint only after fdatasync").
export interface StreamRig {
  readonly slotPath: string;
  readonly slots: SlotBackend;
  offset: number;
  restarted: boolean;
  readonly log: string[]; // 'write N-M', 'datasync', 'checkpoint N', 'finish N'
  run(req: DownloadRequest): Promise<void>;
  slotBytes(): Promise<Buffer>;
}

export async function streamRig(dir: string, opts: { prefix?: Uint8Array; offset?: number; checkpointBytes?: number } = {}): Promise<StreamRig> {
  const slotPath = join(dir, 'slot-b.img');
  const real = new FileSlotBackend({ A: join(dir, 'slot-a.img'), B: slotPath });
  if (opts.prefix) await writeFile(slotPath, opts.prefix);
  const log: string[] = [];
  const slots: SlotBackend = {
    location: (s) => real.location(s),
    capacity: (s) => real.capacity(s),
    measure: (s, n, onProgress) => real.measure(s, n, onProgress),
    open: async (s, image, fresh) => {
      const w = await real.open(s, image, fresh);
      log.push(`open ${fresh ? 'fresh' : 'resume'}`);
      return {
        write: async (chunk, pos) => {
          await w.write(chunk, pos);
          log.push(`write ${pos}-${pos + chunk.length}`);
        },
        datasync: async () => {
          await w.datasync();
          log.push('datasync');
        },
        finish: async (n) => {
          await w.finish(n);
          log.push(`finish ${n}`);
        },
        close: () => w.close(),
      };
    },
  };
  const rig: StreamRig = {
    slotPath,
    slots,
    offset: opts.offset ?? 0,
    restarted: false,
    log,
    run: (req) =>
      streamIntoSlot({
        ...req,
        slots,
        slot: 'B',
        offset: rig.offset,
        restarted: rig.restarted,
        checkpointBytes: opts.checkpointBytes ?? 256 * 1024,
        checkpoint: (offset, restarted) => {
          rig.offset = offset;
          rig.restarted = restarted;
          log.push(`checkpoint ${offset}`);
          return Promise.resolve();
        },
      }),
    slotBytes: () => readFile(slotPath),
  };
  return rig;
}
