import { EdgesealError, isEdgesealError } from '../core/errors.js';
import type { TargetsSigned } from '../repo/tuf-json.js';
import { loadWorkdir, saveWorkdir, storeBlob } from '../repo/workdir.js';
import { EXIT, parseCommandArgs, required, type Command } from './command.js';
import { DIR_OPTION, onePositional, parseCount } from './repo-shared.js';

const NAME = 'repo add-target';

export const repoAddTarget: Command = {
  name: NAME,
  usage: [
    `${NAME} FILE --dir WORKDIR --name PATH --hardware-id ID [--hardware-id ID]… --version SEMVER --security-version N --kind firmware|os|app [--slot SLOT] [--pcr-policy-generation N] [--role ROLE] [--replace]`,
    '',
    '  --dir WORKDIR         publisher working dir (keys/, repo.json, blobs/)',
    '  --name PATH           target name devices ask for, e.g. fw/board-a/firmware.bin (no "..", no leading "/")',
    '  --hardware-id ID      hardware this image is for (repeat for several)',
    '  --version SEMVER      image version, e.g. 2.4.1',
    '  --security-version N  anti-rollback counter (integer ≥ 0); devices refuse images below their floor',
    '  --kind K              firmware, os or app',
    '  --slot SLOT           optional install slot',
    '  --pcr-policy-generation N  the image changes measured boot components (firmware, shim, GRUB, kernel):',
    '                        devices arm it only once they hold signed PCR policy generation N (repo pcr-policy sign)',
    '  --role ROLE           targets role to list it in (default targets; a delegated role must cover PATH)',
    '  --replace             list FILE under a PATH that already lists other bytes (see docs/installed-images.md)',
    '',
    'Prefer a new PATH per release. Replacing or removing a target only stops offering it: devices that run',
    'it keep booting it; to stop them, revoke it (edgeseal repo revoke).',
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
        'pcr-policy-generation': { type: 'string' },
        role: { type: 'string' },
        replace: { type: 'boolean' },
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
      ...(values['pcr-policy-generation'] !== undefined ? { pcrPolicyGeneration: parseCount(NAME, 'pcr-policy-generation', values['pcr-policy-generation'], 1, 1) } : {}),
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
    const targets = (repo.envelope(role).signed as TargetsSigned).targets;
    const old = Object.hasOwn(targets, name) ? targets[name] : undefined;
    const replaced = old && (old.hashes.sha256 !== digest.sha256 || old.length !== digest.length) ? old : undefined;
    const oldVersion = (replaced?.custom as { version?: unknown } | undefined)?.version;
    const was = replaced ? `${typeof oldVersion === 'string' ? oldVersion : 'a target'} (sha256 ${replaced.hashes.sha256}, ${replaced.length} bytes)` : '';
    if (replaced && values.replace !== true) {
      throw new EdgesealError(
        'USAGE',
        `${NAME}: ${name} in ${role}: expected a new name or --replace, found it already lists ${was}. A new name per release (e.g. with the version in it) keeps both listed; --replace makes devices stop being offered the old bytes`,
      );
    }
    repo.addTarget(name, { ...digest, custom }, { role });
    await saveWorkdir(dir, repo);
    io.out(`added ${name} to ${role}: ${digest.length} bytes, sha256 ${digest.sha256}, ${custom.kind} ${custom.version} for ${custom.hardwareIds.join(', ')}`);
    if (replaced) {
      io.out(`replaced ${was}: devices are offered ${custom.version} instead; devices still running the old bytes keep booting them (their install records), unless you revoke them (edgeseal repo revoke)`);
    }
    io.out(`unsigned changes: ${repo.pending().join(', ')} (edgeseal repo publish signs them)`);
    return EXIT.OK;
  },
};
