import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { FileBootSelector } from '../../src/ota/boot-selector-file.js';
import { nextBootSlot } from '../../src/ota/boot-selector.js';
import { readJournal } from '../../src/ota/install-journal.js';
import { BlockSlotBackend } from '../../src/ota/slot-block.js';
import type { SlotId } from '../../src/ota/slot.js';
import { readFloor, V1_TARGET, V2_TARGET, type RigPaths } from './install-rig.js';

// The SIGKILL harness shared by install-crash.test.ts and marks-crash.test.ts: one installer step per
// child process (install-child.ts), and what must hold after any crash.
const CHILD = fileURLToPath(new URL('./install-child.js', import.meta.url));

export interface ChildResult {
  signal: NodeJS.Signals | null;
  code: number | null;
  out: string;
  err: string;
}

export function runChild(args: object): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, out, err }));
  });
}

// What must hold after any crash: the slot running and the slot the bootloader picks next each hold
// a verified image (A: v1, never written; B: v2 once armed), and the floor is 2 only once B is good.
export async function assertInvariants(p: RigPaths, where: string): Promise<void> {
  const s = await new FileBootSelector(p.boot).state();
  const slots = new BlockSlotBackend(p.devices);
  const expected = (slot: SlotId): typeof V1_TARGET => (slot === 'A' ? V1_TARGET : V2_TARGET);
  for (const slot of new Set([s.active, nextBootSlot(s)])) {
    const found = await slots.measure(slot, expected(slot).length);
    expect(found.sha256, `${where}: slot ${slot} must hold its verified image`).to.equal(expected(slot).sha256);
  }
  if ((await readFloor(p)) === 2) expect(s.good, `${where}: floor raised before B was committed`).to.equal('B');
  const j = await readJournal(p.journal);
  if (j.state === 'committed' && j.install?.floorsRaised) expect(await readFloor(p)).to.equal(2);
  // the image streams into the slot: nothing is ever staged on the state partition
  expect(await readdir(p.staging).catch(() => []), `${where}: staging dir`).to.deep.equal([]);
}
