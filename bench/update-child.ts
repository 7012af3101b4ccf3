// One install, as its own process, for bench/update.ts: streams a target from a local folder into a
// file slot (stream, fdatasync, digest, re-read, arm). Prints its peak RSS and the largest the state
// dir (journal, boot selector, staging) ever was, as JSON.
//   node dist/bench/update-child.js '{"repo": …, "state": …, "slots": {"A": …, "B": …}, "target": {…}}'
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FileBootSelector } from '../src/ota/boot-selector-file.js';
import type { InstallTarget } from '../src/ota/install-journal.js';
import { Installer } from '../src/ota/install.js';
import { FileSlotBackend } from '../src/ota/slot-file.js';

interface Args {
  repo: string;
  state: string;
  slots: { A: string; B: string };
  target: InstallTarget;
}
const args = JSON.parse(process.argv[2] ?? '{}') as Args;

// Bytes under `dir` now (files of the state dir: journal, its atomic temp, the selector, staging).
function bytesUnder(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    total += e.isDirectory() ? bytesUnder(path) : statSync(path, { throwIfNoEntry: false })?.size ?? 0;
  }
  return total;
}

let peakState = 0;
const track = (): void => void (peakState = Math.max(peakState, bytesUnder(args.state)));
const installer = new Installer({
  journalPath: join(args.state, 'install.json'),
  stagingDir: join(args.state, 'staging'),
  source: { kind: 'dir', path: args.repo },
  slots: new FileSlotBackend(args.slots),
  selector: await FileBootSelector.create(join(args.state, 'boot.json'), 'A'),
  raiseFloors: () => Promise.resolve(),
  download: { attempts: 1, onProgress: track },
  onTransition: track,
});
const step = await installer.install(args.target);
if (step.journal.state !== 'trying') throw new Error(`bench install ended in ${step.journal.state}: ${step.journal.install?.outcome?.message ?? ''}`);
track();
const rss = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]) * 1024;
process.stdout.write(JSON.stringify({ rss, peakState }));
