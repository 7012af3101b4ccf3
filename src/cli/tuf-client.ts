import { asEdgesealError, EdgesealError } from '../core/errors.js';
import { METADATA_MAX_LENGTH } from '../tuf/limits.js';
import { readCapped } from '../tuf/metadata-files.js';
import { createDeviceUpdater, initMetadataDir } from '../tuf/updater.js';
import { EXIT, parseCommandArgs, required, type CliIo, type Command } from './command.js';

const NAME = 'tuf-client';

// The tuf-conformance client-under-test protocol (CLIENT-CLI.md): exit 0 on full success, 1 on any
// failure — including usage errors, so the suite never mistakes a crash for a pass or a refusal.
async function run(argv: string[], io: CliIo): Promise<void> {
  const { values, positionals } = parseCommandArgs(
    NAME,
    argv,
    {
      'metadata-dir': { type: 'string' },
      'metadata-url': { type: 'string' },
      'target-name': { type: 'string', multiple: true },
      'target-base-url': { type: 'string' },
      'target-dir': { type: 'string' },
    },
    true,
  );
  const metadataDir = required(NAME, 'metadata-dir', values['metadata-dir']);
  const [action, ...rest] = positionals;
  if (action === 'init') {
    if (rest.length !== 1) throw new EdgesealError('USAGE', `${NAME} init: expected one TRUSTED_ROOT file, found ${rest.length} arguments`);
    // no checks are expected at init (the root is the trust anchor); only the size cap applies
    await initMetadataDir(metadataDir, await readCapped(rest[0], METADATA_MAX_LENGTH.root));
    io.out(`${NAME}: initialised ${metadataDir} with trusted root ${rest[0]}`);
    return;
  }
  if (action !== 'refresh' && action !== 'download') {
    throw new EdgesealError('USAGE', `${NAME}: expected a command init|refresh|download, found ${JSON.stringify(action ?? '')}`);
  }
  if (rest.length) throw new EdgesealError('USAGE', `${NAME} ${action}: unexpected arguments ${rest.join(' ')}`);
  const metadataUrl = required(NAME, 'metadata-url', values['metadata-url']);
  if (action === 'refresh') {
    await createDeviceUpdater({ metadataDir, source: { metadataUrl } }).refresh();
    io.out(`${NAME}: refreshed metadata in ${metadataDir}`);
    return;
  }
  const names = required(NAME, 'target-name', values['target-name']);
  const targetBaseUrl = required(NAME, 'target-base-url', values['target-base-url']);
  const targetDir = required(NAME, 'target-dir', values['target-dir']);
  // one updater for all targets, in order, stopping at the first failure
  const client = createDeviceUpdater({ metadataDir, source: { metadataUrl, targetBaseUrl } });
  await client.refresh();
  for (const name of names) {
    const { path, cached } = await client.download(name, targetDir);
    io.out(`${NAME}: ${cached ? 'already verified' : 'downloaded'} ${name} → ${path}`);
  }
}

export const tufClientCommand: Command = {
  name: NAME,
  usage: [
    'tuf-client --metadata-dir DIR init TRUSTED_ROOT',
    '       edgeseal tuf-client --metadata-dir DIR --metadata-url URL refresh',
    '       edgeseal tuf-client --metadata-dir DIR --metadata-url URL --target-name PATH [--target-name PATH …] --target-base-url URL --target-dir DIR download',
    '',
    'URLs may be http(s):// or file:// (a repository on a local directory). Metadata is kept in DIR',
    'under non-versioned names; targets are stored in the target dir under their URL-encoded names and',
    'are not downloaded again while the stored copy still verifies.',
    '',
    'exit 0 on full success, 1 on any failure.',
  ].join('\n'),

  async run(argv: string[], io: CliIo): Promise<number> {
    try {
      await run(argv, io);
      return EXIT.OK;
    } catch (err) {
      const e = asEdgesealError(err);
      io.err(`edgeseal ${NAME}: error [${e.code}]: ${e.message}`);
      return EXIT.REFUSED;
    }
  },
};
