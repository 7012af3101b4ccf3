import { EdgesealError, isEdgesealError } from '../core/errors.js';
import { loadWorkdir, saveWorkdir, storeBlob } from '../repo/workdir.js';
import { EXIT, parseCommandArgs, required, type Command } from './command.js';
import { DIR_OPTION, onePositional, parseCount } from './repo-shared.js';

const NAME = 'repo add-target';

export const repoAddTarget: Command = {
  name: NAME,
  usage: [
    `${NAME} FILE --dir WORKDIR --name PATH --hardware-id ID [--hardware-id ID]… --version SEMVER --security-version N --kind firmware|os|app [--slot SLOT] [--role ROLE]`,
    '',
    '  --dir WORKDIR         publisher working dir (keys/, repo.json, blobs/)',
    '  --name PATH           target name devices ask for, e.g. fw/board-a/firmware.bin (no "..", no leading "/")',
    '  --hardware-id ID      hardware this image is for (repeat for several)',
    '  --version SEMVER      image version, e.g. 2.4.1',
    '  --security-version N  anti-rollback counter (integer ≥ 0); devices refuse images below their floor',
    '  --kind K              firmware, os or app',
    '  --slot SLOT           optional install slot',
    '  --role ROLE           targets role to list it in (default targets; a delegated role must cover PATH)',
  ].join('\n'),
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(
      NAME,
      argv,
      {
        ...DIR_OPTION,
        name: { type: 'string' },
        'hardware-id': { type: 'string', multiple: true },
        version: { type: 'string' },
        'security-version': { type: 'string' },
        kind: { type: 'string' },
        slot: { type: 'string' },
        role: { type: 'string' },
      },
      true,
    );
    const file = onePositional(NAME, positionals, 'FILE');
    const dir = required(NAME, 'dir', values.dir);
    const name = required(NAME, 'name', values.name);
    const custom = {
      hardwareIds: required(NAME, 'hardware-id', values['hardware-id']),
      version: required(NAME, 'version', values.version),
      securityVersion: parseCount(NAME, 'security-version', required(NAME, 'security-version', values['security-version']), 0, 0),
      kind: required(NAME, 'kind', values.kind),
      ...(values.slot !== undefined ? { slot: values.slot } : {}),
    };
    const repo = await loadWorkdir(dir, { keys: false });
    const role = values.role ?? 'targets';
    // Validate name, role and custom fields before copying a possibly large file into blobs/.
    try {
      repo.checkTarget(name, custom, role);
    } catch (err) {
      // Custom fields typed by the publisher are a usage error here, not refused metadata.
      if (isEdgesealError(err, 'MALFORMED_METADATA')) throw new EdgesealError('USAGE', `${NAME}: ${err.message}`, { cause: err });
      throw err;
    }
    const digest = await storeBlob(dir, file);
    repo.addTarget(name, { ...digest, custom }, { role });
    await saveWorkdir(dir, repo);
    io.out(`added ${name} to ${role}: ${digest.length} bytes, sha256 ${digest.sha256}, ${custom.kind} ${custom.version} for ${custom.hardwareIds.join(', ')}`);
    io.out(`unsigned changes: ${repo.pending().join(', ')} (edgeseal repo publish signs them)`);
    return EXIT.OK;
  },
};
