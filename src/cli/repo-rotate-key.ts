import { EdgesealError } from '../core/errors.js';
import { generateKey } from '../crypto/ed25519.js';
import { readKeyFile } from '../crypto/key-store.js';
import { readSignerRef } from '../crypto/signer-ref.js';
import type { PublicKeyInput } from '../crypto/tuf-key.js';
import { loadWorkdir, saveWorkdir, storeKey, storeSignerRef } from '../repo/workdir.js';
import { EXIT, parseCommandArgs, required, type Command } from './command.js';
import { DIR_OPTION, DIR_USAGE, onePositional, PASSPHRASE_USAGE, parseCount, passphrase, shortId } from './repo-shared.js';

const NAME = 'repo rotate-key';

export const repoRotateKey: Command = {
  name: NAME,
  usage: [
    `${NAME} ROLE --dir WORKDIR [--add-key FILE]… [--add-signer FILE]… [--generate N] [--remove KEYID]… [--keep-old] [--threshold N] [--encrypt]`,
    '',
    '  ROLE               root, targets, snapshot, timestamp or a delegated role',
    `  ${DIR_USAGE}`,
    "  --add-key FILE     add this key (public or private securesystemslib JSON) instead of generating one",
    '  --add-signer FILE  add a key held in a token or by a signer command (a reference from repo signer); copied to WORKDIR/signers',
    '  --generate N       generate N new keys (default 1 unless --add-key or --add-signer is given)',
    '  --remove KEYID     remove this key (keyid or a unique prefix of ≥ 8 hex digits); repeatable',
    "  --keep-old         keep the role's current keys (default: remove them all when no --remove is given)",
    '  --threshold N      new threshold (default: unchanged)',
    `  --encrypt          encrypt generated private keys; ${PASSPHRASE_USAGE}`,
    '',
    'Old private keys stay in WORKDIR/keys: the next sign/publish needs them to sign the new root.',
    '',
    'Rotation does not revoke: images signed with a removed key keep booting on devices that run them.',
    'For a compromised key, also run: edgeseal repo revoke --key KEYID (docs/installed-images.md).',
  ].join('\n'),
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(
      NAME,
      argv,
      {
        ...DIR_OPTION,
        'add-key': { type: 'string', multiple: true },
        'add-signer': { type: 'string', multiple: true },
        generate: { type: 'string' },
        remove: { type: 'string', multiple: true },
        'keep-old': { type: 'boolean' },
        threshold: { type: 'string' },
        encrypt: { type: 'boolean' },
      },
      true,
    );
    const role = onePositional(NAME, positionals, 'ROLE');
    const dir = required(NAME, 'dir', values.dir);
    const pass = passphrase(values.encrypt === true);
    const repo = await loadWorkdir(dir, { keys: false });
    const current = repo.roleEntry(role).entry.keyids;
    const added: PublicKeyInput[] = [];
    for (const f of values['add-key'] ?? []) added.push(await readKeyFile(f));
    const refs = await Promise.all((values['add-signer'] ?? []).map(readSignerRef));
    added.push(...refs.map((r) => ({ keyid: r.keyid, publicKey: r.publicKey })));
    const generated = Array.from({ length: parseCount(NAME, 'generate', values.generate, added.length > 0 ? 0 : 1, 0) }, generateKey);
    const remove = values.remove ? values.remove.map((p) => resolveKeyId(current, p)) : values['keep-old'] ? [] : current;
    const threshold = values.threshold === undefined ? undefined : parseCount(NAME, 'threshold', values.threshold, 1);
    repo.rotateKeys(role, { add: [...added, ...generated], remove: [...remove], ...(threshold !== undefined ? { threshold } : {}) });
    for (const key of generated) io.out(`${role} new key ${shortId(key.keyid)}  ${await storeKey(dir, role, key, values.encrypt ? pass : undefined)}`);
    for (const ref of refs) io.out(`${role} new key ${shortId(ref.keyid)}  ${await storeSignerRef(dir, role, ref)}`);
    for (const key of added.slice(0, added.length - refs.length)) io.out(`${role} new key ${shortId(key.keyid)}  (from file)`);
    for (const id of remove) io.out(`${role} removed key ${shortId(id)}`);
    await saveWorkdir(dir, repo);
    // devices keep booting what the old keys signed (docs/installed-images.md): say so every time
    io.out('rotation does not revoke: images signed by a removed key still boot on devices that run them (docs/installed-images.md)');
    for (const id of remove) io.out(`  if ${shortId(id)} is compromised: edgeseal repo revoke --dir ${dir} --key ${id}`);
    io.out(`unsigned changes: ${repo.pending().join(', ')} (edgeseal repo publish signs them)`);
    return EXIT.OK;
  },
};

function resolveKeyId(keyids: readonly string[], prefix: string): string {
  const matches = /^[0-9a-f]{8,64}$/.test(prefix) ? keyids.filter((k) => k.startsWith(prefix)) : [];
  if (matches.length !== 1) {
    throw new EdgesealError('USAGE', `${NAME}: --remove ${prefix}: expected exactly one of the role's keys to match, found ${matches.length} (keys: ${keyids.map(shortId).join(', ')})`);
  }
  return matches[0];
}
