import { readFile } from 'node:fs/promises';
import { loadConfig, DEFAULT_CONFIG_PATH } from '../agent/config-file.js';
import { checkMeasurementPcr } from '../trust/measurement-pcr.js';
import { parsePcrSelection, type PcrSelection } from '../trust/pcr-selection.js';
import { decodeDeviceIdentity, trustPaths } from '../trust/state-files.js';
import { EXIT, parseCommandArgs, type CliIo, type Command } from './command.js';

const NAME = 'config check';

// The seal set of a provisioned device (device.json), or undefined before provisioning.
async function sealedPcrs(stateDir: string): Promise<PcrSelection | undefined> {
  let text: string;
  try {
    text = await readFile(trustPaths(stateDir).device, 'utf8');
  } catch {
    return undefined; // not provisioned (or unreadable: the agent reports that itself at start)
  }
  return parsePcrSelection(decodeDeviceIdentity(text).policyPcrs);
}

export const configCheckCommand: Command = {
  name: NAME,
  usage: [
    'config check [--config FILE] [--json]',
    '',
    `  --config FILE   agent config (default ${DEFAULT_CONFIG_PATH})`,
    '  --json          print the effective config (defaults filled in) as JSON',
    '',
    'exit 0 when valid; 2 (CONFIG_INVALID) with one line per bad field: its path, what was expected, what was found.',
    'On a provisioned device (stateDir/trust/device.json) tpm.measurePcr must lie outside the PCRs the anchor is sealed to.',
  ].join('\n'),

  async run(argv: string[], io: CliIo): Promise<number> {
    const { values } = parseCommandArgs(NAME, argv, { config: { type: 'string' }, json: { type: 'boolean' } });
    const path = values.config ?? DEFAULT_CONFIG_PATH;
    const config = await loadConfig(path);
    const warnings = checkMeasurementPcr(config.tpm.measurePcr, await sealedPcrs(config.stateDir));
    if (values.json) {
      io.out(JSON.stringify({ ...config, telemetry: { ...config.telemetry, ...(config.telemetry.password ? { password: '***' } : {}) } }, null, 2));
      return EXIT.OK;
    }
    const ab = config.images.find((i) => i.path === undefined);
    io.out(`✔ ${path} is valid`);
    io.out(`  device     ${config.deviceId} (hardware ${config.hardwareId}, fleet ${config.fleet})`);
    io.out(`  tpm        ${config.tpm.swtpm ? `swtpm ${config.tpm.swtpm}` : (config.tpm.device ?? '/dev/tpmrm0')}, measure into PCR ${config.tpm.measurePcr}`);
    io.out(`  images     ${config.images.map((i) => `${i.target}${i.path ? '' : ' (A/B)'}`).join(', ')}`);
    io.out(`  on failure ${config.onFailure}; expiry at boot ${config.expiryAtBoot}`);
    io.out(`  updates    ${config.update.source ?? 'no source'}${config.update.schedule ? `, cron '${config.update.schedule}' ±${config.update.jitterSeconds}s` : ', no schedule'}${config.update.maintenanceWindows.length ? `, windows ${config.update.maintenanceWindows.join(', ')} UTC` : ''}${ab ? '' : ' (no A/B image: updates disabled)'}`);
    io.out(`  telemetry  ${config.telemetry.broker ?? 'no broker: events wait in the outbox'} under ${config.telemetry.prefix}/${config.fleet}/${config.deviceId}`);
    for (const w of warnings) io.err(`warning: ${w}`);
    return EXIT.OK;
  },
};
