import { parseCron } from '../core/cron.js';
import { scheduleCron } from '../io/cron-task.js';

export const DEFAULT_METRICS_CRON = '*/5 * * * *';

// Runs `tick` on a cron schedule; a failed tick goes to onError and the schedule continues. A tick that
// comes while the previous one still runs is skipped (no overlap).
export function scheduleMetrics(expression: string, tick: () => Promise<unknown>, onError: (err: unknown) => void): { stop(): Promise<void> } {
  let running = false;
  const task = scheduleCron(parseCron(expression), () => {
    if (running) return;
    running = true;
    void tick()
      .then(() => undefined, onError)
      .finally(() => (running = false));
  });
  return { stop: () => Promise.resolve(task.stop()) };
}
