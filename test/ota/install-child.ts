// Runs one agent step of the install state machine in its own process, SIGKILLing itself at a named
// crash point (once per device: a marker file records that it happened). Used by install-crash.test.ts.
//   node install-child.js '{"dir": …, "phase": "install"|"start", "crashAt": "journal:staged", "bootOk": true, "health": "pass"}'
// phase mark-good | mark-bad | mark-active: the installer steps of edgeseal mark-* (marks-crash.test.ts).
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BootSelector } from '../../src/ota/boot-selector.js';
import { FileBootSelector } from '../../src/ota/boot-selector-file.js';
import type { BootCheckResult, InstallStep } from '../../src/ota/install.js';
import type { SlotBackend } from '../../src/ota/slot.js';
import { buildInstaller, paths, V1_TARGET, V2_TARGET, V2_VERIFIED } from './install-rig.js';

interface Args {
  dir: string;
  phase: 'install' | 'start' | 'mark-good' | 'mark-bad' | 'mark-active';
  crashAt: string | null;
  bootOk: boolean;
  health?: 'pass' | 'fail'; // absent: no health checks configured
  awaitMark?: boolean; // update.health.mode external
  slot?: 'A' | 'B'; // mark-active
}

const args = JSON.parse(process.argv[2] ?? '{}') as Args;
const p = paths(args.dir);
const marker = join(args.dir, 'crashed');

function crash(point: string): void {
  if (point !== args.crashAt || existsSync(marker)) return;
  writeFileSync(marker, point);
  process.kill(process.pid, 'SIGKILL');
}

// Kills the process right after an fdatasync of the slot, before the offset it made durable is journalled.
function crashingSlots(real: SlotBackend): SlotBackend {
  return {
    location: (s) => real.location(s),
    measure: (s, n, onProgress) => real.measure(s, n, onProgress),
    capacity: (s) => real.capacity(s),
    open: async (slot, image, fresh) => {
      const w = await real.open(slot, image, fresh);
      return {
        ...w,
        datasync: async () => {
          await w.datasync();
          crash('slot:datasync');
        },
      };
    },
  };
}

function crashingSelector(real: BootSelector): BootSelector {
  return {
    state: () => real.state(),
    active: () => real.active(),
    clearTry: () => real.clearTry(),
    setTryOnce: async (slot, tries) => {
      await real.setTryOnce(slot, tries);
      crash('selector:setTryOnce');
    },
    markGood: async (slot) => {
      await real.markGood(slot);
      crash('selector:markGood');
    },
  };
}

let resumedFrom: number | undefined; // where this run's stream started
const installer = buildInstaller(
  p,
  {
    awaitMark: args.awaitMark === true,
    onTransition: (j) => {
      crash(`journal:${j.state}`);
      // mid-stream, right after a checkpoint made an offset durable
      if (j.state === 'downloading' && (j.install?.offset ?? 0) > 0 && (j.install?.offset ?? 0) < V2_TARGET.length) crash('download:checkpoint');
    },
    download: {
      attempts: 1,
      checkpointBytes: 256 * 1024,
      onProgress: (pr) => {
        resumedFrom ??= pr.resumedFrom;
        if (pr.received >= pr.total / 2) crash('download:mid');
        if (pr.received === pr.total) crash('download:end'); // every byte written, the last ones not yet fdatasync'd
      },
    },
    ...(args.health
      ? {
          health: () => {
            crash('health:run');
            return Promise.resolve(args.health === 'pass' ? { ok: true as const } : { ok: false as const, check: 'app', message: 'expected exit 0, found exit 1' });
          },
        }
      : {}),
  },
  (parts) => ({
    slots: crashingSlots(parts.slots),
    selector: crashingSelector(parts.selector),
    raiseFloors: async (t) => {
      await parts.raiseFloors(t);
      crash('floors:raise');
    },
  }),
);

const check: BootCheckResult = args.bootOk ? { ok: true, verified: V2_VERIFIED } : { ok: false, code: 'SIGNATURE_THRESHOLD', message: 'simulated failing boot check' };
// an agent start runs the boot check of the slot it booted first: B holds v2 once staged, A keeps v1
const running = await new FileBootSelector(p.boot).active();
const startCheck = running === 'B' ? V2_VERIFIED : { slot: running, name: V1_TARGET.name, sha256: V1_TARGET.sha256, securityVersion: V1_TARGET.securityVersion };
async function run(): Promise<InstallStep> {
  switch (args.phase) {
    case 'install':
      return installer.install(V2_TARGET);
    case 'mark-good':
      return (await installer.markGood(check)) ?? { journal: await installer.current(), next: 'none' };
    case 'mark-bad':
      return installer.markBad('slot B marked bad: uplink down');
    case 'mark-active':
      return installer.select(args.slot ?? 'A');
    default:
      return installer.resume(startCheck);
  }
}
let step = await run();
if (step.next === 'boot-check') step = await installer.confirmBoot(check);
process.stdout.write(JSON.stringify({ next: step.next, state: step.journal.state, resumedFrom }));
