import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { loadConfig, DEFAULT_CONFIG_PATH } from '../agent/config-file.js';
import { EdgesealError } from '../core/errors.js';
import { writeFileAtomic } from '../store/atomic-write.js';
import { fwEnvConfigPath, type FwEnvConfig } from '../units/boot-env-access.js';
import { systemdDropIns } from '../units/drop-ins.js';
import { EXIT, parseCommandArgs, type CliIo, type Command } from './command.js';

const NAME = 'systemd-units';

async function readFwEnv(path: string | undefined): Promise<FwEnvConfig | undefined> {
  if (path === undefined) return undefined;
  try {
    return { path, text: await readFile(path, 'utf8') };
  } catch (err) {
    throw new EdgesealError('CONFIG_INVALID', `${NAME}: the boot selector runs U-Boot's env tools, which find the environment through ${path}: expected that file, found ${(err as Error).message} (on another host: --fw-env-config FILE)`, { cause: err });
  }
}

export const systemdUnitsCommand: Command = {
  name: NAME,
  usage: [
    'systemd-units [--config FILE] [--output DIR] [--fw-env-config FILE]',
    '',
    `  --config FILE          agent config (default ${DEFAULT_CONFIG_PATH})`,
    '  --output DIR           write the drop-ins under DIR (e.g. /etc/systemd/system); default: print them',
    "  --fw-env-config FILE   U-Boot's fw_env.config when the boot selector runs fw_setenv (default: -c in its argv, else /etc/fw_env.config)",
    '',
    'Writes edgeseal-agent.service.d/50-slots.conf and edgeseal-boot-check.service.d/50-slots.conf: DeviceAllow= and',
    'ReadWritePaths= for exactly the TPM, block-device images and slots, slot directories, boot selector (grubenv,',
    "U-Boot env device) and state dir the config names; and the TPM device's JobTimeoutSec= (docs/packaging.md).",
    'exit 0 written; 2 (CONFIG_INVALID) for a path a unit file cannot hold (spaces, %) or a config the units cannot run.',
  ].join('\n'),

  async run(argv: string[], io: CliIo): Promise<number> {
    const { values } = parseCommandArgs(NAME, argv, { config: { type: 'string' }, output: { type: 'string' }, 'fw-env-config': { type: 'string' } });
    const configPath = values.config ?? DEFAULT_CONFIG_PATH;
    const config = await loadConfig(configPath);
    const fwEnvPath = fwEnvConfigPath(config.update.bootSelector);
    const fwEnv = await readFwEnv(fwEnvPath === undefined ? undefined : (values['fw-env-config'] ?? fwEnvPath));
    const { files, notes } = systemdDropIns({ config, configPath, ...(fwEnv ? { fwEnv } : {}) });
    for (const note of notes) io.err(`warning: ${note}`);
    if (values.output === undefined) {
      for (const f of files) io.out(`### ${f.path}\n${f.text}`);
      return EXIT.OK;
    }
    for (const f of files) {
      const path = join(values.output, f.path);
      await mkdir(dirname(path), { recursive: true });
      await writeFileAtomic(path, f.text);
      io.out(`wrote ${path}`);
    }
    io.out('next: systemctl daemon-reload, then restart edgeseal-agent.service');
    return EXIT.OK;
  },
};
