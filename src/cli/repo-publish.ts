import type { Repository } from '../repo/repository.js';
import { signAndWrite } from '../repo/sign-publish.js';
import { EXIT, parseCommandArgs, required, type CliIo, type Command } from './command.js';
import { actor, DIR_OPTION, DIR_USAGE, NOW_OPTION, NOW_USAGE, parseNow, printSigned } from './repo-shared.js';
import { KEY_OPTION, KEY_USAGE, openForSigning } from './repo-sign.js';

const NAME = 'repo publish';

export const repoPublish: Command = {
  name: NAME,
  usage: [
    `${NAME} --dir WORKDIR --out DIR [--key FILE]… [--signer FILE]… [--now ISO]`,
    '',
    `  ${DIR_USAGE}`,
    '  --out DIR          published repository: DIR/metadata/{N.root.json,timestamp.json,N.snapshot.json,N.<role>.json}',
    '                     and DIR/targets/<dirs>/<sha256>.<name> (consistent snapshots); nothing is written outside DIR',
    `  ${KEY_USAGE}`,
    `  ${NOW_USAGE}`,
    '',
    'Writes targets, then every versioned metadata file, timestamp.json last, each by rename: sync a mirror in',
    'the same order (rsync --delay-updates, timestamp.json in a second pass; docs/metadata-cache.md).',
  ].join('\n'),
  async run(argv, io) {
    const { values } = parseCommandArgs(NAME, argv, { ...DIR_OPTION, ...NOW_OPTION, ...KEY_OPTION, out: { type: 'string' } });
    const dir = required(NAME, 'dir', values.dir);
    const out = required(NAME, 'out', values.out);
    const now = parseNow(NAME, values.now);
    await signAndPublish(io, dir, out, await openForSigning(dir, values.key, values.signer), now);
    return EXIT.OK;
  },
};

// Signs what is pending (saving the workdir when anything was signed), then writes the published tree.
export async function signAndPublish(io: CliIo, dir: string, out: string, repo: Repository, now: Date): Promise<void> {
  const { signed, report } = await signAndWrite(dir, out, repo, now, actor(undefined));
  if (signed.length > 0) printSigned(io, signed);
  io.out(`published to ${out}: ${report.metadataFiles} metadata files, ${report.targetsCopied} targets copied (${report.bytesCopied} bytes), ${report.targetsUnchanged} unchanged`);
}
