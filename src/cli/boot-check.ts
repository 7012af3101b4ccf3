import { agentPaths, recordTrustFailure } from '../agent/agent-state.js';
import { loadConfig, DEFAULT_CONFIG_PATH } from '../agent/config-file.js';
import { imageStatus, runBootCheck, saveBootStatus } from '../agent/boot-check.js';
import { checkBootClock } from '../agent/boot-clock.js';
import { openDevice } from '../agent/device.js';
import { imageLines } from '../agent/format.js';
import { asEdgesealError } from '../core/errors.js';
import { createLogger } from '../log/logger.js';
import { spoolDir } from '../telemetry/spool.js';
import { EXIT, exitCodeFor, parseCommandArgs, type CliIo, type Command } from './command.js';

const NAME = 'boot-check';

export const bootCheckCommand: Command = {
  name: NAME,
  usage: [
    `boot-check [--config FILE] [--json]`,
    '',
    `  --config FILE   agent config (default ${DEFAULT_CONFIG_PATH})`,
    '  --json          print the per-image verdicts as JSON',
    '',
    'Unseals the anchors in the TPM, loads the trusted metadata from the pinned root, streams each image',
    'through sha256, checks signatures, hardware id, revocation and the TPM security floor, and measures',
    'each verified digest into the configured PCR. Verdicts go to the telemetry outbox and status.',
    'A clock behind the time floor (P5) is reported as a CLOCK_BEHIND_FLOOR warning; it never changes the exit code.',
    'Over 64 MiB of images in all, the hashing shows a progress bar on a terminal (stderr), log lines otherwise.',
    '',
    'exit 0   every image verified (or onFailure is report-only: refusals are reported, not enforced)',
    'exit 1   an image was refused (the code is printed: DIGEST_MISMATCH, ROLLBACK, HARDWARE_MISMATCH, …)',
    'exit 2   the config is invalid          exit 3   TPM, disk or metadata cache unavailable',
    '',
    'A state dir that cannot be written (read-only, full) does not stop the check: the exit code is the',
    'verification\'s, STORAGE_ERROR is printed as a warning, and the verdicts wait in <runDir>/spool (config',
    'runDir, default /run/edgeseal) until the agent records them in the outbox. Nothing is committed then.',
  ].join('\n'),

  async run(argv: string[], io: CliIo): Promise<number> {
    const { values } = parseCommandArgs(NAME, argv, { config: { type: 'string' }, json: { type: 'boolean' } });
    const config = await loadConfig(values.config ?? DEFAULT_CONFIG_PATH);
    const logger = createLogger({ level: io.isTTY && !values.json ? 'warn' : config.logLevel });
    const dev = await openDevice({ config, logger, telemetry: 'outbox' }).catch(async (err: unknown) => {
      const e = asEdgesealError(err);
      await recordTrustFailure(agentPaths(config.stateDir), e.code, e.message, new Date()).catch(() => undefined);
      throw e;
    });
    try {
      const now = new Date(); // the CLI is an adapter: the wall clock is read here, once
      // like the agent: a clock behind the time floor is reported, never a reason to refuse an image
      const clock = await checkBootClock(dev, now);
      // a bar on a terminal while images over 64 MiB in all are hashed; log lines otherwise (issue 12 F)
      const bar = io.isTTY && !values.json ? { bar: (text: string) => void process.stderr.write(text) } : {};
      const result = await runBootCheck(dev, now, undefined, { progress: bar });
      const permissive = !result.ok && config.onFailure === 'report-only';
      await saveBootStatus(dev, result, result.ok ? 'verified' : permissive ? 'report-only' : 'refused', now);
      const images = result.outcomes.map(imageStatus);
      const storage = dev.storage.ok ? undefined : `${dev.storage.message}; verdicts spooled to ${spoolDir(config.runDir)} for the agent to report`;
      if (storage) io.err(`warning: [STORAGE_ERROR] ${storage}`);
      if (values.json) io.out(JSON.stringify({ ok: result.ok, rootVersion: result.rootVersion, images, clock, ...(storage ? { storage } : {}) }, null, 2));
      else {
        if (!clock.ok) io.err(`warning: [${clock.code ?? 'CLOCK_BEHIND_FLOOR'}] ${clock.message ?? ''}`);
        io.out(`boot check: ${result.ok ? 'all images verified' : permissive ? 'REFUSED (report-only: not enforced)' : 'REFUSED'}${result.rootVersion ? ` (root v${result.rootVersion})` : ''}`);
        imageLines(images).forEach((l) => io.out(l));
      }
      const refused = result.outcomes.find((o) => !o.verdict.ok)?.verdict;
      if (!refused || refused.ok || permissive) return EXIT.OK;
      return exitCodeFor(refused.code);
    } finally {
      await dev.close();
    }
  },
};
