import { readKeyFile } from '../crypto/key-store.js';
import type { Repository } from '../repo/repository.js';
import { loadWorkdir, saveWorkdir } from '../repo/workdir.js';
import { EXIT, parseCommandArgs, required, type Command } from './command.js';
import { DIR_OPTION, DIR_USAGE, NOW_OPTION, NOW_USAGE, PASSPHRASE_USAGE, parseNow, passphrase, printSigned } from './repo-shared.js';

const NAME = 'repo sign';

export const KEY_OPTION = { key: { type: 'string', multiple: true } } as const;
export const KEY_USAGE = '--key FILE         an extra private key file (e.g. an offline root key); repeatable';

// Loads the workdir with its keys plus any --key files (passphrase from the environment).
export async function openForSigning(dir: string, keyFiles: readonly string[] | undefined): Promise<Repository> {
  const pass = passphrase(false);
  const repo = await loadWorkdir(dir, pass !== undefined ? { passphrase: pass } : {});
  for (const f of keyFiles ?? []) repo.addSigningKeys([await readKeyFile(f, pass)]);
  return repo;
}

export const repoSign: Command = {
  name: NAME,
  usage: [
    `${NAME} --dir WORKDIR [--refresh ROLE]… [--key FILE]… [--now ISO]`,
    '',
    `  ${DIR_USAGE}`,
    '  --refresh ROLE     re-sign ROLE even without changes (renews its expiry), e.g. timestamp',
    `  ${KEY_USAGE}`,
    `  ${NOW_USAGE}`,
    '',
    `Each role needs private keys for its threshold; ${PASSPHRASE_USAGE}.`,
  ].join('\n'),
  async run(argv, io) {
    const { values } = parseCommandArgs(NAME, argv, { ...DIR_OPTION, ...NOW_OPTION, ...KEY_OPTION, refresh: { type: 'string', multiple: true } });
    const dir = required(NAME, 'dir', values.dir);
    const now = parseNow(NAME, values.now);
    const repo = await openForSigning(dir, values.key);
    for (const role of values.refresh ?? []) repo.markDirty(role);
    printSigned(io, repo.sign(now));
    await saveWorkdir(dir, repo);
    return EXIT.OK;
  },
};
