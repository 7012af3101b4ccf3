import { generateKey, type Ed25519Key } from '../crypto/ed25519.js';
import { readKeyFile } from '../crypto/key-store.js';
import type { Signer } from '../crypto/signer.js';
import { openSigner, readSignerRef } from '../crypto/signer-ref.js';
import { loadWorkdir, saveWorkdir, storeKey, storeSignerRef } from '../repo/workdir.js';
import { EXIT, parseCommandArgs, required, type Command } from './command.js';
import { DIR_OPTION, DIR_USAGE, PASSPHRASE_USAGE, parseCount, passphrase, shortId } from './repo-shared.js';

const NAME = 'repo delegate';

export const repoDelegate: Command = {
  name: NAME,
  usage: [
    `${NAME} --dir WORKDIR --role NAME --path PATTERN [--path PATTERN]… [--key-file PUBLIC.json]… [--signer FILE]… [--keys N] [--threshold N] [--parent ROLE] [--expires DAYS] [--encrypt]`,
    '',
    `  ${DIR_USAGE}`,
    '  --role NAME         new role name ([A-Za-z0-9._-], becomes N.NAME.json)',
    "  --path PATTERN      target paths it may sign, shell-style per segment ('*' never crosses '/'), e.g. apps/builder/*",
    "  --key-file FILE     the role's public key (securesystemslib JSON) when its holder keeps the private key",
    '  --signer FILE       a key held in a PKCS#11 token or by a signer command (reference from repo signer)',
    '  --keys N            otherwise: generate N keys here (default 1)',
    '  --threshold N       signatures the role needs (default 1)',
    '  --parent ROLE       delegating role (default targets)',
    '  --expires DAYS      validity of each signed version (default: as targets)',
    `  --encrypt           encrypt generated private keys; ${PASSPHRASE_USAGE}`,
  ].join('\n'),
  async run(argv, io) {
    const { values } = parseCommandArgs(NAME, argv, {
      ...DIR_OPTION,
      role: { type: 'string' },
      path: { type: 'string', multiple: true },
      'key-file': { type: 'string', multiple: true },
      signer: { type: 'string', multiple: true },
      keys: { type: 'string' },
      threshold: { type: 'string' },
      parent: { type: 'string' },
      expires: { type: 'string' },
      encrypt: { type: 'boolean' },
    });
    const dir = required(NAME, 'dir', values.dir);
    const role = required(NAME, 'role', values.role);
    const paths = required(NAME, 'path', values.path);
    const pass = passphrase(values.encrypt === true);
    const repo = await loadWorkdir(dir, { keys: false });
    const external: Ed25519Key[] = [];
    for (const f of values['key-file'] ?? []) external.push(await readKeyFile(f));
    const refs = await Promise.all((values.signer ?? []).map(readSignerRef));
    const generated = external.length + refs.length > 0 ? [] : Array.from({ length: parseCount(NAME, 'keys', values.keys, 1) }, generateKey);
    const keys: (Ed25519Key | Signer)[] = [...external, ...generated, ...refs.map(openSigner)];
    const days = values.expires === undefined ? undefined : parseCount(NAME, 'expires', values.expires, 1);
    repo.delegate({
      name: role,
      paths,
      keys,
      threshold: parseCount(NAME, 'threshold', values.threshold, 1),
      ...(values.parent !== undefined ? { parent: values.parent } : {}),
      ...(days !== undefined ? { expirySeconds: days * 86400 } : {}),
    });
    for (const key of generated) io.out(`${role} key ${shortId(key.keyid)}  ${await storeKey(dir, role, key, values.encrypt ? pass : undefined)}`);
    for (const key of external) io.out(`${role} key ${shortId(key.keyid)}  (public only: its holder signs)`);
    for (const ref of refs) io.out(`${role} key ${shortId(ref.keyid)}  ${await storeSignerRef(dir, role, ref)} (${ref.signer.kind})`);
    await saveWorkdir(dir, repo);
    io.out(`delegated ${paths.join(', ')} to ${role}; unsigned changes: ${repo.pending().join(', ')}`);
    return EXIT.OK;
  },
};
