import { generateKey, type SigningKey } from '../crypto/ed25519.js';
import { EdgesealError } from '../core/errors.js';
import { DEFAULT_EXPIRY_SECONDS, Repository } from '../repo/repository.js';
import { TOP_ROLES, type TopRole } from '../repo/tuf-json.js';
import { saveWorkdir, storeKey, workdirExists } from '../repo/workdir.js';
import { EXIT, parseCommandArgs, required, type Command } from './command.js';
import { DIR_OPTION, DIR_USAGE, PASSPHRASE_USAGE, parseRoleNumbers, passphrase, shortId } from './repo-shared.js';

const NAME = 'repo init';

export const repoInit: Command = {
  name: NAME,
  usage: [
    `${NAME} --dir WORKDIR [--keys ROLE=N]… [--threshold ROLE=N]… [--expires ROLE=DAYS]… [--encrypt]`,
    '',
    `  ${DIR_USAGE}`,
    '  --keys ROLE=N      keys to generate for root|targets|snapshot|timestamp (default 1 each)',
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
    const keys = Object.fromEntries(TOP_ROLES.map((r) => [r, Array.from({ length: counts[r] ?? 1 }, generateKey)])) as Record<TopRole, SigningKey[]>;
    const expirySeconds = Object.fromEntries(Object.entries(days).map(([r, d]) => [r, d * 86400]));
    const repo = Repository.init({ keys, thresholds, expirySeconds });
    for (const role of TOP_ROLES) {
      for (const key of keys[role]) {
        const path = await storeKey(dir, role, key, values.encrypt ? pass : undefined);
        io.out(`${role.padEnd(10)} key ${shortId(key.keyid)}  ${path}${values.encrypt ? ' (encrypted)' : ''}`);
      }
    }
    await saveWorkdir(dir, repo);
    const summary = TOP_ROLES.map((r) => `${r} ${thresholds[r] ?? 1}/${keys[r].length}`).join(', ');
    io.out(`initialised ${dir}: thresholds ${summary}; next: edgeseal repo add-target FILE --dir ${dir} --name PATH …`);
    return EXIT.OK;
  },
};
