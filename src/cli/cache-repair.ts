import { DEFAULT_CONFIG_PATH, loadConfig } from '../agent/config-file.js';
import { openDevice, type Device } from '../agent/device.js';
import { refreshMetadata } from '../agent/metadata-refresh.js';
import { refreshRevocations } from '../agent/revocation-refresh.js';
import { asEdgesealError, EdgesealError } from '../core/errors.js';
import { createLogger } from '../log/logger.js';
import { EXIT, exitCodeFor, parseCommandArgs, type CliIo, type Command } from './command.js';

const NAME = 'cache repair';

export const cacheRepair: Command = {
  name: NAME,
  usage: [
    `${NAME} --from DIR|URL [--config FILE]`,
    '',
    `  --config FILE   agent config (default ${DEFAULT_CONFIG_PATH})`,
    '  --from DIR|URL  a published TUF repository: a mirror URL, or a directory (USB stick) holding metadata/ and targets/',
    '',
    'Ignores whatever the metadata cache holds: walks the root chain from the root pinned in the TPM, fetches',
    'timestamp, snapshot, targets, every delegated role and the revocation list the metadata names, verifies',
    'the whole set at the TPM floors and promotes it (docs/metadata-cache.md). The old set stays promoted',
    'when anything fails. The revocation cache is then replaced by the promoted list.',
    '',
    'exit 0  promoted      exit 1  refused (the repository does not verify from the pinned root, or is older than the floors)',
    'exit 2  usage         exit 3  network, disk or TPM',
  ].join('\n'),

  async run(argv: string[], io: CliIo): Promise<number> {
    const { values } = parseCommandArgs(NAME, argv, { config: { type: 'string' }, from: { type: 'string' } });
    if (!values.from) throw new EdgesealError('USAGE', `${NAME}: expected --from DIR|URL, found none (see 'edgeseal ${NAME} --help')`);
    const from = values.from;
    const config = await loadConfig(values.config ?? DEFAULT_CONFIG_PATH);
    const dev = await openDevice({ config, logger: createLogger({ level: 'error' }), telemetry: 'outbox' });
    try {
      return await repairCache(dev, from, (line) => io.out(line));
    } finally {
      await dev.close();
    }
  },
};

// Rebuilds the promoted set from the pinned root and `from`, then the revocation cache from it; says
// what it did line by line and returns the exit code. `provision --from` fills a new device's cache with it.
export async function repairCache(dev: Device, from: string, say: (line: string) => void): Promise<number> {
  const set = await refreshMetadata(dev, from, { fromPinnedRoot: true }).catch((err: unknown) => asEdgesealError(err));
  if (set instanceof EdgesealError) {
    say(`✘ metadata set not rebuilt [${set.code}] ${set.message}; the promoted set is unchanged`);
    return exitCodeFor(set.code);
  }
  const t = set.trusted;
  say(`✔ promoted: root v${t.root.signed.version}, targets v${t.roles.get('targets')!.md.signed.version}, ${t.roles.size - 1} delegated role(s), revocation list ${set.list ? `v${set.list.list.version}` : 'none published'}`);
  const r = await refreshRevocations(dev, () => Promise.resolve(set));
  say(r.ok ? `✔ revocation cache holds list v${r.version}` : `revocation cache: [${r.error.code}] ${r.error.message}`);
  return r.ok || !r.published ? EXIT.OK : exitCodeFor(r.error.code);
}
