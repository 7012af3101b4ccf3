import { asEdgesealError } from '../core/errors.js';
import { Collector } from '../fleet/collector/collector.js';
import { loadCollectorKey } from '../fleet/collector/collector-key.js';
import { loadCollectorConfig } from '../fleet/collector/config.js';
import { startFleetHttp } from '../fleet/http/server.js';
import { haltRollout } from '../fleet/rollouts/auto-halt.js';
import { RolloutMonitor } from '../fleet/rollouts/monitor.js';
import { openFleetStore } from '../fleet/open-store.js';
import { EXIT, parseCommandArgs, required, type Command } from './command.js';

const NAME = 'fleet serve';
const RETENTION_EVERY_MS = 3600_000;

// The long-running collector: MQTT → verify → store → acknowledge, until SIGINT/SIGTERM.
export const fleetServeCommand: Command = {
  name: NAME,
  usage: [
    'fleet serve --config fleet.json',
    '',
    '  fleet.json: { "db", "broker": { "url", "username"?, "ca"?, "cert"?, "key"? }, "fleets": [..], "collectorKey",',
    '               "clientId"?, "sessionExpirySeconds"?, "prefix"?, "retention"?: { "maxAgeDays"?, "maxEvents"? },',
    '               "sessions"? (default 128: MQTT sessions sharing one group commit; raise, never lower), "shareGroup"?,',
    '               "http"?: { "host" (default 127.0.0.1), "port" (default 9477), "tlsCert"?, "tlsKey"?, "tokenFile"? },',
    '               "rollouts"?: { "repository", "trustedRoot", "checkSeconds"?, "failureThresholdPercent"?, "minSample"?,',
    '                              "halt"?: { "workdir", "key" } } }   (docs/fleet/rollouts.md)',
    '  http: loopback by default; any other host needs tlsCert+tlsKey and tokenFile (bearer token).',
    '  broker password: read from the EDGESEAL_BROKER_PASSWORD environment variable',
    '  Devices with telemetry.ack "collector" need telemetry.collectorKey = the public key printed at start.',
  ].join('\n'),
  async run(argv, io) {
    const { values } = parseCommandArgs(NAME, argv, { config: { type: 'string' } });
    const config = await loadCollectorConfig(required(NAME, 'config', values.config));
    const key = await loadCollectorKey(config.collectorKey);
    const store = await openFleetStore(config.db);
    const collector = new Collector({
      config,
      store,
      key,
      onError: (e) => io.err(`${NAME}: [${e.code}] ${e.message}`),
      onConflict: (c) => io.err(`${NAME}: ALARM [SEQ_CONFLICT] ${c.fleet}/${c.deviceId} seq ${c.seq} arrived again with different signed bytes`),
    });
    const rc = config.rollouts;
    const halt = rc?.halt;
    const rollouts = rc && new RolloutMonitor({
      config: rc,
      store,
      ...(halt ? { halt: (target: string, now: Date) => haltRollout(rc, halt, target, now) } : {}),
      log: (level, line) => (level === 'info' ? io.out(line) : io.err(`${NAME}: ${line}`)),
    });
    let stopHttp = (): Promise<void> => Promise.resolve();
    // listening from the start: a stop request during start-up (retention, the first rollout check) stops cleanly
    const stopRequested = new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    try {
      await collector.start();
      const http = await startFleetHttp({ config: config.http, store, statuses: collector.statuses, ...(rollouts ? { rollouts } : {}) });
      stopHttp = () => http.close();
      io.out(`collector ${config.clientId} (${config.sessions ?? 1} sessions) on ${config.broker.url} (${store.kind}); collector key ${key.publicHex}`);
      io.out(`dashboard ${http.url}/ (API ${http.url}/api/…, metrics ${http.url}/metrics)`);
      const retain = async (): Promise<void> => {
        const r = await store.applyRetention(config.retention, new Date());
        if (r.events + r.rejected > 0) io.out(`retention: removed ${r.events} events, ${r.rejected} rejected`);
      };
      await retain();
      const timer = setInterval(() => void retain().catch((err: unknown) => io.err(`${NAME}: retention: ${asEdgesealError(err).message}`)), RETENTION_EVERY_MS);
      const checkRollouts = (): Promise<unknown> => rollouts?.check(new Date()).catch((err: unknown) => io.err(`${NAME}: rollouts: ${asEdgesealError(err).message}`)) ?? Promise.resolve();
      if (rollouts) io.out(`rollouts from ${rc.repository}: ${halt ? `automatic halt over ${rc.failureThresholdPercent} % failures` : 'alert only (no rollouts key)'}`);
      await checkRollouts();
      const rolloutTimer = rc ? setInterval(() => void checkRollouts(), rc.checkSeconds * 1000) : undefined;
      await stopRequested;
      clearInterval(timer);
      clearInterval(rolloutTimer);
      const s = collector.stats;
      io.out(`stopped: ${s.stored} stored, ${s.duplicates} duplicates, ${s.rejected} rejected, ${s.conflicts} conflicts`);
      return EXIT.OK;
    } finally {
      await stopHttp();
      await collector.stop();
      await store.close();
    }
  },
};
