import { asEdgesealError } from '../core/errors.js';
import { checkClock } from '../core/time-floor.js';
import { updateAgentStatus, type AgentStatus } from './agent-state.js';
import type { Device } from './device.js';
import { readTimeFloor } from './time-floor-store.js';

// P5 at boot: a clock behind the time floor is logged, reported (anchor-status) and kept for
// `edgeseal status`, but never stops the boot: booting a verified install does not depend on time.
export async function checkBootClock(dev: Device, now: Date): Promise<NonNullable<AgentStatus['clock']>> {
  const log = dev.logger.child({ component: 'clock' });
  let status: NonNullable<AgentStatus['clock']>;
  try {
    const floor = await readTimeFloor(dev);
    const c = checkClock(now, floor, dev.config.clockToleranceSeconds * 1000);
    const base = { at: now.toISOString(), ...(floor ? { floor: floor.at.toISOString() } : {}) };
    status = c.ok ? { ...base, ok: true } : { ...base, ok: false, code: c.code, message: c.message };
  } catch (err) {
    const e = asEdgesealError(err);
    status = { at: now.toISOString(), ok: false, code: e.code, message: `time floor unreadable: ${e.message}` };
  }
  if (!status.ok) {
    log.error(`[${status.code}] ${status.message} (boot continues; updates judge expiry at the floor)`, { code: status.code });
    await dev.report({ type: 'anchor-status', verdict: 'error', code: status.code, detail: (status.message ?? '').slice(0, 512) });
  }
  if (dev.storage.ok) await updateAgentStatus(dev.paths, { clock: status });
  return status;
}
