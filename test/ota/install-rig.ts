import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FileBootSelector } from '../../src/ota/boot-selector-file.js';
import type { BootSelector } from '../../src/ota/boot-selector.js';
import type { InstallTarget } from '../../src/ota/install-journal.js';
import { Installer, type InstallerDeps, type VerifiedImage } from '../../src/ota/install.js';
import { BlockSlotBackend } from '../../src/ota/slot-block.js';
import type { SlotBackend } from '../../src/ota/slot.js';
import { publishedTargetPath } from '../../src/ota/target-path.js';

// A simulated device for install tests: two partition files (A holds v1), a file boot selector,
// a USB-stick repo holding v2, and a floors file standing in for the TPM NV counter.
export const PARTITION = 2 * 1024 * 1024;

export function bytesFor(seed: string, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0, off = 0; off < length; i++) off += createHash('sha256').update(`${seed}:${i}`).digest().copy(out, off);
  return out;
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
export const V1 = bytesFor('v1', 700_000);
export const V2 = bytesFor('v2', 1_300_000);
export const V1_TARGET: InstallTarget = { name: 'fw/board-a/fw.bin', length: V1.length, sha256: sha(V1), version: '1.0.0', securityVersion: 1 };
export const V2_TARGET: InstallTarget = { name: 'fw/board-a/fw.bin', length: V2.length, sha256: sha(V2), version: '2.0.0', securityVersion: 2 };
// what a passing boot check of slot B holding v2 establishes (digest, signed securityVersion)
export const V2_VERIFIED: VerifiedImage = { slot: 'B', name: V2_TARGET.name, sha256: V2_TARGET.sha256, securityVersion: V2_TARGET.securityVersion };

export interface RigPaths {
  readonly dir: string;
  readonly usb: string;
  readonly staging: string;
  readonly journal: string;
  readonly boot: string;
  readonly floors: string;
  readonly devices: { readonly A: string; readonly B: string };
}

export function paths(dir: string): RigPaths {
  return {
    dir,
    usb: join(dir, 'usb'),
    staging: join(dir, 'staging'),
    journal: join(dir, 'install.json'),
    boot: join(dir, 'boot.json'),
    floors: join(dir, 'floors.json'),
    devices: { A: join(dir, 'p2'), B: join(dir, 'p3') },
  };
}

// A device running v1 from slot A, with `published` on the USB stick as the v2 target file.
export async function setupDevice(dir: string, published: Uint8Array = V2): Promise<RigPaths> {
  const p = paths(dir);
  const a = Buffer.alloc(PARTITION);
  V1.copy(a);
  await writeFile(p.devices.A, a);
  await writeFile(p.devices.B, bytesFor('garbage', PARTITION));
  await FileBootSelector.create(p.boot, 'A');
  await writeFile(p.floors, JSON.stringify({ securityVersion: 1 }));
  const file = join(p.usb, 'targets', publishedTargetPath(V2_TARGET));
  await mkdir(join(file, '..'), { recursive: true });
  await writeFile(file, published);
  return p;
}

export async function readFloor(p: RigPaths): Promise<number> {
  return (JSON.parse(await readFile(p.floors, 'utf8')) as { securityVersion: number }).securityVersion;
}

export interface RigParts {
  slots: SlotBackend;
  selector: BootSelector;
  raiseFloors: InstallerDeps['raiseFloors'];
}

// The real adapters for the rig; `wrap` lets a test interpose on them (call order, crash points).
export function buildInstaller(p: RigPaths, extra: Partial<InstallerDeps> = {}, wrap: (parts: RigParts) => RigParts = (x) => x): Installer {
  const parts = wrap({
    slots: new BlockSlotBackend(p.devices),
    selector: new FileBootSelector(p.boot),
    raiseFloors: async (verified) => {
      // the TPM NV counter only goes up
      const floor = Math.max(await readFloor(p), verified.securityVersion);
      await writeFile(p.floors, JSON.stringify({ securityVersion: floor }));
    },
  });
  return new Installer({
    journalPath: p.journal,
    stagingDir: p.staging,
    source: { kind: 'dir', path: p.usb },
    download: { attempts: 1 },
    ...parts,
    ...extra,
  });
}
