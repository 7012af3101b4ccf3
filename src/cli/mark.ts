import { DEFAULT_CONFIG_PATH, loadConfig } from '../agent/config-file.js';
import { controlSocketPath, requestControl } from '../agent/control-socket.js';
import { execReboot, openDevice } from '../agent/device.js';
import { applyMark, type MarkOutcome, type MarkRequest, type MarkSlot } from '../agent/marks.js';
import { EdgesealError } from '../core/errors.js';
import { createLogger } from '../log/logger.js';
import { EXIT, exitCodeFor, parseCommandArgs, type CliIo, type Command } from './command.js';

// edgeseal mark-good | mark-bad | mark-active: the running agent does the work (control socket in
// runDir); with no agent running the command opens the device itself, under the same outbox lock.

const COMMON = [
  `  --config FILE   agent config (default ${DEFAULT_CONFIG_PATH})`,
  '  --reboot        run update.rebootCommand when the bootloader now picks another slot than the running one',
  '  --json          print the outcome as JSON',
];
const EXITS = [
  '',
  'With the agent running, the request goes to it over <runDir>/control.sock (root only) and it acts under its',
  'own lock; without it, this command takes the agent\'s state lock itself. Running it again changes nothing.',
  '',
  'exit 0  done, or already so          exit 1  refused (MARK_REFUSED, or the slot does not verify: its code)',
  'exit 2  usage or config              exit 3  environment (TPM, storage, OUTBOX_LOCKED: agent busy starting)',
];
const OPTIONS = { config: { type: 'string' }, reboot: { type: 'boolean' }, json: { type: 'boolean' } } as const;

async function runMark(name: string, req: MarkRequest, values: { config?: string; reboot?: boolean; json?: boolean }, io: CliIo): Promise<number> {
  const config = await loadConfig(values.config ?? DEFAULT_CONFIG_PATH);
  let outcome: MarkOutcome | undefined = await requestControl(controlSocketPath(config.runDir), req);
  const via = outcome ? 'the running agent' : 'this command';
  if (!outcome) {
    const logger = createLogger({ level: io.isTTY && !values.json ? 'warn' : config.logLevel });
    const dev = await openDevice({ config, logger, telemetry: 'outbox' });
    try {
      outcome = await applyMark(dev, req, new Date());
    } finally {
      await dev.close();
    }
  }
  if (values.json) io.out(JSON.stringify({ ...outcome, via }, null, 2));
  else if (outcome.code) io.out(`✘ ${name} [${outcome.code}] ${outcome.message}`);
  else io.out(`${outcome.changed ? '✔' : '·'} ${outcome.message} (journal ${outcome.state}, by ${via})`);
  if (outcome.next === 'reboot') {
    if (values.reboot) await execReboot(config.update.rebootCommand);
    else if (!values.json) io.out('  the bootloader now starts another slot: reboot (or pass --reboot) to switch');
  }
  return outcome.code ? exitCodeFor(outcome.code) : EXIT.OK;
}

export const markGoodCommand: Command = {
  name: 'mark-good',
  usage: [
    'mark-good [--config FILE] [--reboot] [--json]',
    '',
    ...COMMON,
    '',
    'Commits the booted slot when it is a trial boot (update.health.mode "external" leaves a verified trial',
    'waiting for this): the slot is verified again as at boot, becomes the bootloader\'s good slot, and only then',
    'does the TPM securityVersion floor rise to the signed version verified. A slot that no longer verifies is',
    'rolled back instead (exit 1). On the committed good slot it changes nothing.',
    ...EXITS,
  ].join('\n'),
  async run(argv, io) {
    const { values } = parseCommandArgs('mark-good', argv, OPTIONS);
    return runMark('mark-good', { op: 'mark-good' }, values, io);
  },
};

export const markBadCommand: Command = {
  name: 'mark-bad',
  usage: [
    'mark-bad [--reason TEXT] [--config FILE] [--reboot] [--json]',
    '',
    '  --reason TEXT   why (at most 512 characters): in the journal and the rollback event',
    ...COMMON,
    '',
    'Rolls the booted trial slot back: the journal says rolled-back (MARKED_BAD, with the reason), the slot the',
    'install started from becomes the bootloader\'s good slot and a rollback event is reported. No floor moves.',
    'Refused (exit 1, MARK_REFUSED) on a committed slot: there is no known-good slot behind it to return to.',
    ...EXITS,
  ].join('\n'),
  async run(argv, io) {
    const { values } = parseCommandArgs('mark-bad', argv, { ...OPTIONS, reason: { type: 'string' } });
    if (values.reason !== undefined && values.reason.length > 512) throw new EdgesealError('USAGE', `mark-bad: --reason expected at most 512 characters, found ${values.reason.length}`);
    return runMark('mark-bad', { op: 'mark-bad', ...(values.reason !== undefined ? { reason: values.reason } : {}) }, values, io);
  },
};

const SLOTS: readonly string[] = ['A', 'B', 'booted', 'other'];

export const markActiveCommand: Command = {
  name: 'mark-active',
  usage: [
    'mark-active [SLOT] [--config FILE] [--reboot] [--json]',
    '',
    '  SLOT            A, B, booted (default) or other',
    ...COMMON,
    '',
    'Makes SLOT the slot the bootloader boots from the next boot on, only if its image verifies now against the',
    'signed metadata, revocation list and TPM floors as the boot check would (otherwise exit 1 with its code).',
    'Refused while an install is in flight (decide its trial with mark-good or mark-bad first). No floor moves.',
    ...EXITS,
  ].join('\n'),
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('mark-active', argv, OPTIONS, true);
    const slot = positionals[0] ?? 'booted';
    if (positionals.length > 1 || !SLOTS.includes(slot)) throw new EdgesealError('USAGE', `mark-active: expected one SLOT (A, B, booted or other), found ${JSON.stringify(positionals)}`);
    return runMark('mark-active', { op: 'mark-active', slot: slot as MarkSlot }, values, io);
  },
};
