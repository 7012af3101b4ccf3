import { generateKey, type SigningKey } from '../crypto/ed25519.js';
import type { Signer } from '../crypto/signer.js';
import { openSigner, readSignerRef, type SignerRef } from '../crypto/signer-ref.js';
import { EdgesealError } from '../core/errors.js';
import { DEFAULT_EXPIRY_SECONDS, Repository } from '../repo/repository.js';
import { TOP_ROLES, type TopRole } from '../repo/tuf-json.js';
import { saveWorkdir, storeKey, storeSignerRef, workdirExists } from '../repo/workdir.js';
import { EXIT, parseCommandArgs, required, type Command } from './command.js';
import { DIR_OPTION, DIR_USAGE, PASSPHRASE_USAGE, parseRoleNumbers, passphrase, shortId } from './repo-shared.js';

const NAME = 'repo init';

export const repoInit: Command = {
  name: NAME,
  usage: [
    `${NAME} --dir WORKDIR [--keys ROLE=N]… [--signer ROLE=FILE]… [--threshold ROLE=N]… [--expires ROLE=DAYS]… [--encrypt]`,
    '',
    `  ${DIR_USAGE}`,
    '  --keys ROLE=N      keys to generate for root|targets|snapshot|timestamp (default 1 each)',
    '  --signer ROLE=FILE use this key held in a PKCS#11 token or by a signer command (reference from repo signer)',
    '                     for ROLE instead of generating one (keys are generated only with an explicit --keys ROLE=N)',
    '  --threshold ROLE=N signatures a role needs (default 1; at most its key count)',
    `  --expires ROLE=D   days each signed version stays valid (default root ${DEFAULT_EXPIRY_SECONDS.root / 86400}, targets ${DEFAULT_EXPIRY_SECONDS.targets / 86400}, snapshot ${DEFAULT_EXPIRY_SECONDS.snapshot / 86400}, timestamp ${DEFAULT_EXPIRY_SECONDS.timestamp / 86400})`,
    `  --encrypt          encrypt private key files (scrypt + AES-256-GCM); ${PASSPHRASE_USAGE}`,
    '',
    'Nothing is signed yet: add targets, then `edgeseal repo publish`.',
  ].join('\n'),
  async run(argv, io) {
    const { values } = parseCommandArgs(NAME, argv, {
      ...DIR_OPTION,
      keys: { type: 'string', multiple: true },
      signer: { type: 'string', multiple: true },
      threshold: { type: 'string', multiple: true },
      expires: { type: 'string', multiple: true },
      encrypt: { type: 'boolean' },
    });
    const dir = required(NAME, 'dir', values.dir);
    if (await workdirExists(dir)) throw new EdgesealError('USAGE', `${NAME}: expected a new workdir, found an existing repository in ${dir}`);
    const counts = parseRoleNumbers(NAME, 'keys', values.keys);
    const thresholds = parseRoleNumbers(NAME, 'threshold', values.threshold);
    const days = parseRoleNumbers(NAME, 'expires', values.expires);
    const pass = passphrase(values.encrypt === true);
    const refs = await parseRoleSigners(values.signer);
    const keys = Object.fromEntries(TOP_ROLES.map((r) => [r, Array.from({ length: counts[r] ?? (refs[r].length > 0 ? 0 : 1) }, generateKey)])) as Record<TopRole, SigningKey[]>;
    const expirySeconds = Object.fromEntries(Object.entries(days).map(([r, d]) => [r, d * 86400]));
    const all = Object.fromEntries(TOP_ROLES.map((r) => [r, [...keys[r], ...refs[r].map(openSigner)]])) as Record<TopRole, (SigningKey | Signer)[]>;
    const repo = Repository.init({ keys: all, thresholds, expirySeconds });
    for (const role of TOP_ROLES) {
      for (const ref of refs[role]) io.out(`${role.padEnd(10)} key ${shortId(ref.keyid)}  ${await storeSignerRef(dir, role, ref)} (${ref.signer.kind})`);
    }
    for (const role of TOP_ROLES) {
      for (const key of keys[role]) {
        const path = await storeKey(dir, role, key, values.encrypt ? pass : undefined);
        io.out(`${role.padEnd(10)} key ${shortId(key.keyid)}  ${path}${values.encrypt ? ' (encrypted)' : ''}`);
      }
    }
    await saveWorkdir(dir, repo);
    const summary = TOP_ROLES.map((r) => `${r} ${thresholds[r] ?? 1}/${keys[r].length + refs[r].length}`).join(', ');
    io.out(`initialised ${dir}: thresholds ${summary}; next: edgeseal repo add-target FILE --dir ${dir} --name PATH …`);
    return EXIT.OK;
  },
};

// --signer ROLE=FILE, repeatable: signer references per top-level role.
async function parseRoleSigners(values: readonly string[] | undefined): Promise<Record<TopRole, SignerRef[]>> {
  const out = Object.fromEntries(TOP_ROLES.map((r) => [r, [] as SignerRef[]])) as Record<TopRole, SignerRef[]>;
  for (const v of values ?? []) {
    const m = /^([a-z]+)=(.+)$/.exec(v);
    if (!m || !(TOP_ROLES as readonly string[]).includes(m[1])) {
      throw new EdgesealError('USAGE', `${NAME}: --signer: expected ROLE=FILE with ROLE one of ${TOP_ROLES.join('|')}, found ${JSON.stringify(v)}`);
    }
    out[m[1] as TopRole].push(await readSignerRef(m[2]));
  }
  return out;
}
