import { DEFAULT_CONFIG_PATH, loadConfig } from '../agent/config-file.js';
import { openDevice } from '../agent/device.js';
import { refreshRevocations, type RevocationRefreshOutcome } from '../agent/revocation-refresh.js';
import { refreshMetadata } from '../agent/metadata-refresh.js';
import { EdgesealError, type ErrorCode } from '../core/errors.js';
import { createLogger } from '../log/logger.js';
import { EXIT, exitCodeFor, parseCommandArgs, type CliIo, type Command } from './command.js';
import { printEntries } from './revocations-print.js';

const NAME = 'revocations refresh';

// Refusals (rollback, forged, expired, swapped) exit 1; the network, disk and the TPM exit 3.
function exitFor(code: ErrorCode): number {
  return code.startsWith('TPM_') ? EXIT.ENVIRONMENT : exitCodeFor(code);
}

function held(o: RevocationRefreshOutcome): string {
  const s = o.status;
  if (s.version === undefined) return 'no list held';
  const age = s.ageDays === undefined ? '' : `, issued ${s.ageDays.toFixed(1)} days ago`;
  return `list v${s.version} ${s.state} (expires ${s.expires ?? '-'}${age})`;
}

function print(io: CliIo, o: RevocationRefreshOutcome): void {
  if (o.ok) io.out(`✔ revocation list v${o.version} ${o.changed ? 'accepted' : 'unchanged'}${o.floorRaised ? `, TPM floor raised to ${o.version}` : ''}: ${held(o)}`);
  else io.out(`✘ revocation refresh ${!o.published ? 'found no list' : exitFor(o.error.code) === EXIT.ENVIRONMENT ? 'failed' : 'refused'} [${o.error.code}] ${o.error.message}; ${o.status.version === undefined ? 'no list held' : `keeping ${held(o)}`}`);
  io.out(`updates: ${o.update.proceed ? `proceed (${o.update.level}): ${o.update.message}` : `blocked [${o.update.error.code}]: ${o.update.error.message}`}`);
  if (o.status.list) printEntries(io, o.status.list);
}

export const revocationsRefresh: Command = {
  name: NAME,
  usage: [
    `${NAME} [--config FILE] [--from DIR|URL] [--json]`,
    '',
    `  --config FILE   agent config (default ${DEFAULT_CONFIG_PATH})`,
    '  --from DIR|URL  published TUF repository (default update.source from the config)',
    '  --json          print the outcome as one JSON object',
    '',
    'Refreshes and promotes the TUF metadata set with the agent\'s own updater (docs/metadata-cache.md); the set',
    'holds revocations/list.json (signed by the `revocations` delegation). Replaces <stateDir>/revocations/cache.json',
    'with it atomically and raises the TPM revocation-version floor when the list is newer. A failure keeps both.',
    '',
    'exit 0  accepted (new or unchanged)',
    'exit 1  refused: ROLLBACK (older list replayed), SIGNATURE_THRESHOLD / DIGEST_MISMATCH (forged or swapped),',
    '        EXPIRED, UNKNOWN_TARGET (the repository publishes no list)',
    'exit 2  usage or config           exit 3  network, disk or TPM (FETCH_FAILED, STORAGE_ERROR, TPM_*)',
  ].join('\n'),

  async run(argv: string[], io: CliIo): Promise<number> {
    const { values } = parseCommandArgs(NAME, argv, { config: { type: 'string' }, from: { type: 'string' }, json: { type: 'boolean' } });
    const config = await loadConfig(values.config ?? DEFAULT_CONFIG_PATH);
    const from = values.from ?? config.update.source;
    if (!from) throw new EdgesealError('USAGE', `${NAME}: expected --from DIR|URL or update.source in the config, found neither`);
    const logger = createLogger({ level: io.isTTY && !values.json ? 'error' : config.logLevel });
    const dev = await openDevice({ config, logger, telemetry: 'outbox' });
    try {
      const o = await refreshRevocations(dev, () => refreshMetadata(dev, from));
      if (values.json) {
        const { state, version, highestVersion, ageDays, expires } = o.status;
        const result = o.ok ? { ok: true, version: o.version, changed: o.changed, floorRaised: o.floorRaised } : { ok: false, code: o.error.code, message: o.error.message, published: o.published };
        const update = o.update.proceed ? { proceed: true, level: o.update.level } : { proceed: false, code: o.update.error.code };
        io.out(JSON.stringify({ ...result, held: { state, version: version ?? null, highestVersion, ageDays: ageDays ?? null, expires: expires ?? null }, update }));
      } else print(io, o);
      return o.ok ? EXIT.OK : exitFor(o.error.code);
    } finally {
      await dev.close();
    }
  },
};
