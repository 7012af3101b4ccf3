import { DEFAULT_CONFIG_PATH, loadConfig } from '../agent/config-file.js';
import { openDevice } from '../agent/device.js';
import { short, shortenDigests } from '../agent/format.js';
import { runUpdate } from '../agent/update.js';
import { createLogger } from '../log/logger.js';
import { progressLine } from '../ota/progress.js';
import { EXIT, exitCodeFor, parseCommandArgs, type CliIo, type Command } from './command.js';

const NAME = 'update';

export const updateCommand: Command = {
  name: NAME,
  usage: [
    'update [--from DIR|URL] [--config FILE] [--now] [--reboot] [--json]',
    '',
    '  --from DIR|URL  published TUF repository (metadata/ and targets/): a directory (USB stick) or http(s) URL;',
    '                  default update.source from the config',
    `  --config FILE   agent config (default ${DEFAULT_CONFIG_PATH})`,
    '  --now           ignore the maintenance window (an operator\'s explicit request)',
    '  --reboot        run update.rebootCommand once the trial boot is armed',
    '  --json          print the outcome as JSON',
    '',
    'Refreshes TUF metadata (tuf-js), the revocation list, picks the newest target for this hardware id and',
    'image kind, gates it (version, TPM security floor, revocation, free space, window), downloads it',
    '(length-capped, resumable), verifies it, stages it into the inactive slot and arms one trial boot.',
    'The next agent start confirms the new slot (commit, then TPM floors raised) or rolls it back.',
    'At the factory, the first run also fills the metadata cache the boot check trusts (from the TPM-pinned root).',
    '',
    'exit 0  installed (trial armed) or nothing to do (NO_UPDATE)',
    'exit 1  refused, with its code (ROLLBACK, HARDWARE_MISMATCH, KEY_REVOKED, DIGEST_MISMATCH, EXPIRED, …)',
    'exit 2  usage or config           exit 3  environment (FETCH_FAILED, TPM, disk)',
  ].join('\n'),

  async run(argv: string[], io: CliIo): Promise<number> {
    const { values } = parseCommandArgs(NAME, argv, {
      from: { type: 'string' },
      config: { type: 'string' },
      now: { type: 'boolean' },
      reboot: { type: 'boolean' },
      json: { type: 'boolean' },
    });
    const config = await loadConfig(values.config ?? DEFAULT_CONFIG_PATH);
    const logger = createLogger({ level: io.isTTY && !values.json ? 'warn' : config.logLevel });
    const dev = await openDevice({ config, logger, telemetry: 'outbox' });
    try {
      const onProgress = values.json || !io.isTTY ? undefined : progressLine('  downloading', (t) => process.stderr.write(t));
      const o = await runUpdate(dev, { ...(values.from ? { from: values.from } : {}), ignoreMaintenanceWindow: values.now === true, ...(onProgress ? { onProgress } : {}) });
      if (values.json) io.out(JSON.stringify(o, null, 2));
      else if (o.action === 'installed') {
        io.out(`✔ ${o.message}`);
        if (o.target) io.out(`  ${o.target.name} ${o.target.version} (securityVersion ${o.target.securityVersion}) sha256 ${short(o.target.sha256)}`);
        for (const r of o.reasons ?? []) io.out(`    · ${r}`);
        if (o.next === 'reboot' && !values.reboot) io.out('  reboot to start the trial; the agent commits it after a passing boot check');
      } else if (o.action === 'none') io.out(`· nothing to do: ${o.message}`);
      else io.out(`✘ update refused [${o.code ?? 'INTERNAL'}] ${shortenDigests(o.message)}`);
      if (o.action === 'installed' && o.next === 'reboot' && values.reboot) await dev.reboot(`update ${o.target?.version ?? ''} staged`);
      return o.action === 'refused' ? exitCodeFor(o.code ?? 'INTERNAL') : EXIT.OK;
    } finally {
      await dev.close();
    }
  },
};
