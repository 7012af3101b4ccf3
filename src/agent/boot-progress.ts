import { LONG_WORK_BYTES, planProgress, type ProgressMemo } from '../ota/progress-plan.js';
import { redrawProgress } from '../ota/progress.js';
import type { ProgressOutlets } from './install-progress.js';

// What the boot check shows while it hashes (issue 12 F): one figure over all its images, however many
// run at once on the digest pool (bytes hashed of all the signed lengths, images done of all), planned
// by the planner the install uses (src/ota/progress-plan.ts), written to the outlets given.
// log and STATUS= as for an install (every ~10 % or 5 s); bar: a terminal, redrawn at most every 200 ms
export interface BootProgressOutlets extends Pick<ProgressOutlets, 'log' | 'status'> {
  readonly bar?: (text: string) => void;
}

export interface BootProgress {
  // bytes of image `index` hashed so far (a second read of the same image never moves the figure back)
  image(index: number, done: number): void;
  // image `index` is settled (hashed or refused): all its bytes count as done
  settled(index: number): void;
}

const PHASE = 'boot check';

// Progress over images of `lengths` bytes each; undefined (nothing shown) up to LONG_WORK_BYTES in all.
export function bootProgress(lengths: readonly number[], outlets: BootProgressOutlets, clock: () => number = Date.now): BootProgress | undefined {
  const total = lengths.reduce((a, b) => a + b, 0);
  if (total <= LONG_WORK_BYTES) return undefined;
  const done = lengths.map(() => 0);
  const isSettled = lengths.map(() => false);
  let sum = 0;
  let imagesDone = 0;
  let memo: ProgressMemo | undefined;
  const tick = (): void => {
    // 100 % once every image is settled, so the last line says so once
    const at = imagesDone === lengths.length ? total : Math.min(sum, total - 1);
    const planned = planProgress(PHASE, memo, { done: at, total, now: clock() }, outlets.bar !== undefined);
    memo = planned.memo;
    const images = `${imagesDone}/${lengths.length} images`;
    const { bar, line, report } = planned.emit;
    if (bar) outlets.bar?.(redrawProgress(`  ${PHASE} (${images})`, { received: at, total, resumedFrom: 0 }, bar.elapsedMs));
    if (!line || !report) return;
    outlets.log?.(`${line}; ${images}`, { done: report.done, total: report.total, images: lengths.length, imagesDone });
    outlets.status?.(`${line}; ${images}`);
  };
  const advance = (index: number, to: number): void => {
    const next = Math.min(Math.max(done[index] ?? 0, to), lengths[index] ?? 0);
    sum += next - (done[index] ?? 0);
    done[index] = next;
  };
  return {
    image(index, bytes) {
      if (isSettled[index]) return;
      advance(index, bytes);
      tick();
    },
    settled(index) {
      if (isSettled[index]) return;
      isSettled[index] = true;
      imagesDone++;
      advance(index, lengths[index] ?? 0);
      tick();
    },
  };
}
