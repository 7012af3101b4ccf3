import { readKeyFile } from '../crypto/key-store.js';
import { openSigner, readSignerRef } from '../crypto/signer-ref.js';
import type { Repository } from '../repo/repository.js';
import { loadWorkdir, saveWorkdir } from '../repo/workdir.js';
import { EXIT, parseCommandArgs, required, type Command } from './command.js';
import { actor, DIR_OPTION, DIR_USAGE, NOW_OPTION, NOW_USAGE, PASSPHRASE_USAGE, parseNow, passphrase, printSigned } from './repo-shared.js';

const NAME = 'repo sign';

export const KEY_OPTION = { key: { type: 'string', multiple: true }, signer: { type: 'string', multiple: true } } as const;
export const KEY_USAGE = [
  '--key FILE         an extra private key file (e.g. an offline root key); repeatable',
  '  --signer FILE      an extra signer reference (PKCS#11 key or signer command, from repo signer); repeatable',
].join('\n');

// Loads the workdir with its keys and signers plus any --key files (passphrase from the environment)
// and --signer references.
export async function openForSigning(dir: string, keyFiles: readonly string[] | undefined, signerFiles: readonly string[] = []): Promise<Repository> {
  const pass = passphrase(false);
  const repo = await loadWorkdir(dir, pass !== undefined ? { passphrase: pass } : {});
  for (const f of keyFiles ?? []) repo.addSigningKeys([await readKeyFile(f, pass)]);
  for (const f of signerFiles) repo.addSigningKeys([openSigner(await readSignerRef(f))]);
  return repo;
}

export const repoSign: Command = {
  name: NAME,
  usage: [
    `${NAME} --dir WORKDIR [--refresh ROLE]… [--key FILE]… [--signer FILE]… [--now ISO]`,
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
    const repo = await openForSigning(dir, values.key, values.signer);
    for (const role of values.refresh ?? []) repo.markDirty(role);
    printSigned(io, repo.sign(now, actor(undefined)));
    await saveWorkdir(dir, repo);
    return EXIT.OK;
  },
};
