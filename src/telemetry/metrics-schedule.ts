import cron from 'node-cron';
import { EdgesealError } from '../core/errors.js';

export const DEFAULT_METRICS_CRON = '*/5 * * * *';

// Runs `tick` on a cron schedule (node-cron); a failed tick goes to onError and the schedule continues.
export function scheduleMetrics(expression: string, tick: () => Promise<unknown>, onError: (err: unknown) => void): { stop(): Promise<void> } {
  if (!cron.validate(expression)) throw new EdgesealError('CONFIG_INVALID', `telemetry metrics schedule: expected a cron expression, found ${JSON.stringify(expression)}`);
  const task = cron.schedule(expression, () => tick().then(() => undefined, onError), { noOverlap: true });
  return { stop: async () => void (await task.destroy()) };
}
