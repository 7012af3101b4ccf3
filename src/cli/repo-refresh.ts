import { planRefresh } from '../repo/expiry.js';
import { EXIT, parseCommandArgs, required, type Command } from './command.js';
import { signAndPublish } from './repo-publish.js';
import { DIR_OPTION, DIR_USAGE, NOW_OPTION, NOW_USAGE, parseNow } from './repo-shared.js';
import { KEY_OPTION, KEY_USAGE, openForSigning } from './repo-sign.js';

const NAME = 'repo refresh';

export const repoRefresh: Command = {
  name: NAME,
  usage: [
    `${NAME} --dir WORKDIR --out DIR [--key FILE]… [--signer FILE]… [--now ISO]`,
    '',
    `  ${DIR_USAGE}`,
    '  --out DIR          the published repository to update (as for repo publish)',
    `  ${KEY_USAGE}`,
    `  ${NOW_USAGE}`,
    '',
    'Timestamp is re-signed every run; snapshot and the rollouts role (docs/rollouts.md) when half their validity',
    'has passed or they would expire before the new timestamp. Only online keys are needed (timestamp, snapshot,',
    'rollouts; file, PKCS#11 or command signers); a due rollouts role without its key is reported, not fatal.',
    'Refuses (exit 1) while other roles have unsigned changes: publish those deliberately first.',
  ].join('\n'),
  async run(argv, io) {
    const { values } = parseCommandArgs(NAME, argv, { ...DIR_OPTION, ...NOW_OPTION, ...KEY_OPTION, out: { type: 'string' } });
    const dir = required(NAME, 'dir', values.dir);
    const out = required(NAME, 'out', values.out);
    const now = parseNow(NAME, values.now);
    const repo = await openForSigning(dir, values.key, values.signer);
    const plan = planRefresh(repo, now);
    for (const role of plan.roles) repo.markDirty(role);
    for (const role of plan.keyless) io.err(`${NAME}: ${role} is due (expires ${repo.envelope(role).signed.expires}) but its online key is not at hand: add it with --key/--signer or in WORKDIR/keys`);
    await signAndPublish(io, dir, out, repo, now);
    return EXIT.OK;
  },
};
