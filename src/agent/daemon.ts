import type { EventEmitter } from 'node:events';
import type { AgentConfig } from '../config/schema.js';
import { asEdgesealError } from '../core/errors.js';
import type { FleetCommand } from '../telemetry/command.js';
import { createLogger, type Logger } from '../log/logger.js';
import { agentPaths, recordTrustFailure, updateAgentStatus } from './agent-state.js';
import { bootSequence } from './boot-sequence.js';
import { controlSocketPath, listenControl, type ControlSocket } from './control-socket.js';
import { applyMark } from './marks.js';
import { SerialQueue } from '../tpm/queue.js';
import { loadConfig } from './config-file.js';
import { execReboot, openDevice, type Device } from './device.js';
import { realTimers, Scheduler, type Job } from './scheduler.js';
import { createNotifier, type Notifier } from './sd-notify.js';
import { runBudget } from '../io/retrieval-deadline.js';
import { REFRESH_BACKOFF } from '../revocation/policy.js';
import { rollBackTrialOnFault } from './trial-fault.js';

// `edgeseal agent`: config → logger → TPM trust → boot check (+ install confirm) → READY=1 → watchdog,
// cron jobs → SIGTERM/SIGINT (abandon the step, flush the outbox, STOPPING=1, exit 0), SIGHUP reload.

export interface AgentDeps {
  readonly configPath: string;
  readonly clock?: () => Date;
  readonly random?: () => number;
  readonly env?: NodeJS.ProcessEnv;
  readonly signals?: Pick<EventEmitter, 'on' | 'off'>;
  readonly makeLogger?: (config: AgentConfig) => Logger;
  readonly reboot?: (argv: readonly string[]) => Promise<void>;
  readonly onReady?: () => void; // after READY=1 (the agent process sets its idle V8 flags)
}

// Exit codes as EXIT in src/cli/command.ts: 0 stopped cleanly, 1 boot refused, 2/3 config/environment.
export const AGENT_EXIT = { OK: 0, REFUSED: 1 } as const;

// The update and refresh code (the tuf-js client, the HTTP transport, the gate) is loaded when a job
// first runs, not at start-up: an idle agent never holds it (docs/memory.md).
const updateFlow = () => import('./update.js');
const refreshFlow = async () => ({ ...(await import('./revocation-refresh.js')), ...(await import('./metadata-refresh.js')) });

// `device`: the queue that keeps an update run and a mark request (control socket) from interleaving.
function jobs(dev: Device, config: AgentConfig, device: SerialQueue, notifier: Notifier): Job[] {
  const out: Job[] = [];
  const source = config.update.source;
  if (config.update.schedule && source) {
    out.push({
      name: 'update',
      cron: config.update.schedule,
      jitterSeconds: config.update.jitterSeconds,
      run: (signal) =>
        device.run(async () => {
          const { runUpdate } = await updateFlow();
          const o = await runUpdate(dev, { signal, status: (text) => notifier.status(text) });
          if (o.next === 'reboot') await dev.reboot(`update ${o.target?.name ?? ''} ${o.target?.version ?? ''} staged; trial boot armed`);
        }),
    });
  }
  if (config.revocation.schedule && source) {
    out.push({
      name: 'revocation-refresh',
      cron: config.revocation.schedule,
      jitterSeconds: config.update.jitterSeconds,
      backoff: REFRESH_BACKOFF,
      // the outcome is logged and reported inside; a failure keeps the cached list and retries with backoff
      run: async (signal) => {
        const budget = runBudget(config.update.runBudgetSeconds, signal);
        try {
          const { refreshRevocations, refreshMetadata } = await refreshFlow();
          const outcome = await refreshRevocations(dev, () => refreshMetadata(dev, source, { signal: budget.signal }));
          return outcome.ok || !outcome.published ? undefined : 'retry';
        } finally {
          budget.dispose();
        }
      },
    });
  }
  return out;
}

export async function runAgent(deps: AgentDeps): Promise<number> {
  const config = await loadConfig(deps.configPath);
  const logger = deps.makeLogger?.(config) ?? createLogger({ level: config.logLevel, ...(config.logFormat ? { format: config.logFormat } : {}) });
  const log = logger.child({ component: 'agent' });
  const env = deps.env ?? process.env;
  const signals = deps.signals ?? process;
  const notifier: Notifier = createNotifier(env, { onError: (err) => log.warn(`sd_notify: ${err.message}`) });
  const clock = deps.clock ?? (() => new Date());
  // fleet nudges run the matching job now; they carry no data, so they can only make the device check early
  // (the reporter refuses those beyond its rate cap, the scheduler coalesces those for a job in flight)
  let nudge: (cmd: FleetCommand) => void = () => undefined;
  let dev: Device;
  try {
    dev = await openDevice({ config, logger, clock, telemetry: 'publish', onCommand: (cmd) => nudge(cmd), ...(deps.reboot ? { reboot: deps.reboot } : {}) });
  } catch (err) {
    // fail closed: no trust, no boot (the report key itself is sealed, so this can only be logged)
    const e = asEdgesealError(err);
    if (e.code === 'OUTBOX_LOCKED') {
      // another edgeseal process still owns the device state: not a trust failure, systemd retries
      log.error(`cannot start [${e.code}] ${e.message}`, { code: e.code });
      await notifier.close();
      throw e;
    }
    log.error(`cannot establish trust [${e.code}] ${e.message}`, { code: e.code });
    await recordTrustFailure(agentPaths(config.stateDir), e.code, e.message, clock()).catch(() => undefined);
    await rollBackTrialOnFault(config, e, logger, deps.reboot ?? execReboot);
    await notifier.close();
    throw e;
  }
  await dev.report({ type: 'agent-start', verdict: 'info', detail: `pid ${process.pid}` });
  const boot = await bootSequence(dev, clock(), { status: (text) => notifier.status(text) });
  if (!boot.proceed) {
    log.error(`boot ${boot.action} [${boot.code ?? '-'}] ${boot.message ?? ''}`);
    await dev.report({ type: 'agent-stop', verdict: 'refused', code: boot.code ?? 'INTERNAL', detail: `boot ${boot.action}` });
    await dev.close();
    await notifier.close();
    return AGENT_EXIT.REFUSED;
  }

  const scheduler = new Scheduler({
    random: deps.random ?? Math.random,
    ...realTimers,
    onError: (job, err) => log.error(`${job} failed: ${asEdgesealError(err).message}`, { code: asEdgesealError(err).code }),
    onCoalesced: (job) => log.debug(`${job}: already queued or running, request coalesced into that run`, { job }),
  });
  const device = new SerialQueue();
  const schedule = async (c: AgentConfig): Promise<void> => {
    scheduler.clear();
    const current = jobs(dev, c, device, notifier);
    for (const job of current) scheduler.add(job);
    nudge = (cmd) => {
      const name = { 'check-update': 'update', 'refresh-revocations': 'revocation-refresh', 'report-status': undefined }[cmd.command];
      const job = current.find((j) => j.name === name);
      if (job) void scheduler.runNow(job);
      else if (cmd.command === 'report-status') void dev.telemetry?.reporter.recordMetrics().catch(() => undefined);
      else log.warn(`fleet command ${cmd.command}: no ${name ?? ''} job configured (update.source and a schedule)`);
    };
    if (dev.storage.ok) await updateAgentStatus(dev.paths, { schedules: scheduler.nextRuns(), pid: process.pid });
  };
  await schedule(config);
  // a held revocation list the promoted metadata does not name is replaced at once, not at the next tick (issue 10 D)
  if (boot.check.revocationProblem) nudge({ command: 'refresh-revocations' });
  // edgeseal mark-good | mark-bad | mark-active talk to this agent instead of racing it (docs/health.md)
  const control: ControlSocket | undefined = await listenControl(controlSocketPath(config.runDir), (req) => device.run(() => applyMark(dev, req, clock())), logger).catch((err: unknown) => {
    log.warn(`control socket not available, mark commands need the agent stopped: ${asEdgesealError(err).message}`);
    return undefined;
  });
  const images = boot.check.outcomes.length;
  notifier.ready(`${images} image(s) ${boot.action}`);
  deps.onReady?.();
  log.info(`ready: ${images} image(s) ${boot.action}`, { action: boot.action });
  const watchdog = notifier.watchdogIntervalMs ? setInterval(() => notifier.watchdog(), notifier.watchdogIntervalMs) : undefined;

  return new Promise<number>((resolve) => {
    const onHup = (): void => {
      loadConfig(deps.configPath).then(
        async (next) => {
          await schedule(next);
          log.info('config reloaded: schedules replaced (TPM, slots and telemetry settings apply at the next start)');
        },
        (err: unknown) => log.error(`config reload refused, keeping the running config: ${asEdgesealError(err).message}`),
      );
    };
    const onStop = (signal: string): void => {
      signals.off('SIGTERM', onTerm);
      signals.off('SIGINT', onInt);
      signals.off('SIGHUP', onHup);
      log.info(`${signal}: stopping`);
      notifier.stopping(`${signal}`);
      if (watchdog) clearInterval(watchdog);
      void (async () => {
        await scheduler.stop();
        await control?.close();
        await dev.report({ type: 'agent-stop', verdict: 'info', detail: signal });
        await dev.close().catch((err: unknown) => log.warn(`close: ${asEdgesealError(err).message}`));
        await notifier.close();
        resolve(AGENT_EXIT.OK);
      })();
    };
    const onTerm = (): void => onStop('SIGTERM');
    const onInt = (): void => onStop('SIGINT');
    signals.on('SIGTERM', onTerm);
    signals.on('SIGINT', onInt);
    signals.on('SIGHUP', onHup);
  });
}
