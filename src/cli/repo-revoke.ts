import { EdgesealError } from '../core/errors.js';
import { isSemVer } from '../core/semver.js';
import { generateKey } from '../crypto/ed25519.js';
import { loadWorkdir, saveWorkdir, storeKey } from '../repo/workdir.js';
import { DEFAULT_LIST_VALIDITY_DAYS, knownKeyIds, REVOCATIONS_ROLE, type RevocationEntry } from '../revocation/publish.js';
import { stageRevocation } from '../revocation/publisher-workdir.js';
import { EXIT, parseCommandArgs, required, type Command } from './command.js';
import { DIR_OPTION, DIR_USAGE, NOW_OPTION, NOW_USAGE, parseCount, parseNow, shortId } from './repo-shared.js';

const NAME = 'repo revoke';
const HEX64 = /^[0-9a-fA-F]{64}$/;

function usage(message: string): EdgesealError {
  return new EdgesealError('USAGE', `${NAME}: ${message} (see 'edgeseal ${NAME} --help')`);
}

interface RevokeValues {
  key?: string;
  digest?: string;
  'min-version'?: string;
  'hardware-id'?: string;
  renew?: boolean;
  reason?: string;
  reference?: string;
}

// Exactly one of --key, --digest, --min-version, --renew; the annotations go with the entry.
function entryFrom(v: RevokeValues): RevocationEntry | undefined {
  const chosen = (['key', 'digest', 'min-version', 'renew'] as const).filter((k) => v[k] !== undefined);
  if (chosen.length !== 1) throw usage(`expected exactly one of --key, --digest, --min-version, --renew, found ${chosen.length ? chosen.map((c) => `--${c}`).join(' ') : 'none'}`);
  if (v['hardware-id'] !== undefined && v['min-version'] === undefined) throw usage('--hardware-id only applies to --min-version');
  const notes = { ...(v.reason ? { reason: v.reason } : {}), ...(v.reference ? { reference: v.reference } : {}) };
  if (v.key !== undefined) {
    if (!HEX64.test(v.key)) throw usage(`--key: expected a TUF key id (64 hex digits), found ${JSON.stringify(v.key)}`);
    return { kind: 'key', keyid: v.key.toLowerCase(), ...notes };
  }
  if (v.digest !== undefined) {
    const hex = v.digest.replace(/^sha256:/, '');
    if (!HEX64.test(hex)) throw usage(`--digest: expected sha256:<64 hex digits>, found ${JSON.stringify(v.digest)}`);
    return { kind: 'digest', sha256: hex.toLowerCase(), ...notes };
  }
  if (v['min-version'] !== undefined) {
    const m = /^(.+)=([^=]+)$/.exec(v['min-version']);
    if (!m || !isSemVer(m[2])) throw usage(`--min-version: expected TARGET=SEMVER (TARGET may use * within a path segment), found ${JSON.stringify(v['min-version'])}`);
    return { kind: 'min-version', target: m[1], version: m[2], ...(v['hardware-id'] ? { hardwareId: v['hardware-id'] } : {}), ...notes };
  }
  if (v.reason !== undefined || v.reference !== undefined) throw usage('--reason and --reference describe a new entry; --renew adds none');
  return undefined;
}

function describe(entry: RevocationEntry | undefined): string {
  if (!entry) return 'renewed (no new entry)';
  if (entry.kind === 'key') return `revoked key ${entry.keyid}`;
  if (entry.kind === 'digest') return `revoked image sha256:${entry.sha256}`;
  return `minimum version ${entry.version} for ${entry.target}${entry.hardwareId ? ` on ${entry.hardwareId}` : ''}`;
}

export const repoRevoke: Command = {
  name: NAME,
  usage: [
    `${NAME} --dir WORKDIR (--key KEYID | --digest sha256:HEX | --min-version TARGET=VER [--hardware-id ID] | --renew) [--reason TEXT] [--reference REF] [--valid-days N] [--now ISO]`,
    '',
    `  ${DIR_USAGE}`,
    '  --key KEYID          revoke a signing key (any role): images it signed stop counting it',
    '  --digest sha256:HEX  revoke one image by content (a known-bad build)',
    "  --min-version T=V    refuse versions below V for target name/pattern T ('*' within one path segment)",
    '  --hardware-id ID     limit --min-version to one hardware id',
    '  --renew              re-issue the list unchanged with a fresh expiry (run it from cron)',
    '  --reason TEXT, --reference REF   recorded with the entry for forensics (e.g. an incident id)',
    `  --valid-days N       the list expires N days after issue (default ${DEFAULT_LIST_VALIDITY_DAYS}); devices then apply their grace period`,
    `  ${NOW_USAGE}`,
    '',
    `The list is the target revocations/list.json of the delegated role '${REVOCATIONS_ROLE}' (created with a new key on`,
    `first use; create it beforehand with 'edgeseal repo delegate --role ${REVOCATIONS_ROLE} --path revocations/*' to choose keys).`,
    "Each revoke bumps the list version; 'edgeseal repo publish' signs it and writes it out.",
  ].join('\n'),
  async run(argv, io) {
    const { values } = parseCommandArgs(NAME, argv, {
      ...DIR_OPTION,
      ...NOW_OPTION,
      key: { type: 'string' },
      digest: { type: 'string' },
      'min-version': { type: 'string' },
      'hardware-id': { type: 'string' },
      renew: { type: 'boolean' },
      reason: { type: 'string' },
      reference: { type: 'string' },
      'valid-days': { type: 'string' },
    });
    const dir = required(NAME, 'dir', values.dir);
    const entry = entryFrom(values);
    const validDays = parseCount(NAME, 'valid-days', values['valid-days'], DEFAULT_LIST_VALIDITY_DAYS);
    const repo = await loadWorkdir(dir, { keys: false });
    // Still revoked (it may be a key already rotated out, or one of another repository), but say so.
    if (entry?.kind === 'key' && !knownKeyIds(repo).has(entry.keyid)) io.err(`warning: key ${entry.keyid} is not a key of any role in this repository (mistyped?)`);
    const key = generateKey(); // used only if this creates the revocations role
    const { list, created } = await stageRevocation(dir, repo, { entry, now: parseNow(NAME, values.now), validDays, newKeys: () => [key] });
    // The private key reaches the disk before the state that names it.
    if (created) io.out(`created role ${REVOCATIONS_ROLE} with key ${shortId(key.keyid)}  ${await storeKey(dir, REVOCATIONS_ROLE, key)}`);
    await saveWorkdir(dir, repo);
    io.out(`revocation list v${list.version} (expires ${list.expires}): ${describe(entry)}`);
    io.out(`unsigned changes: ${repo.pending().join(', ')}; run 'edgeseal repo publish --dir ${dir} --out DIR' to sign and publish`);
    return EXIT.OK;
  },
};
