import { EdgesealError } from '../core/errors.js';
import { expiryProblems } from '../repo/expiry.js';
import { repoStatus, type CeremonyStatus, type RoleStatus } from '../repo/status.js';
import { loadWorkdir } from '../repo/workdir.js';
import { EXIT, parseCommandArgs, required, type Command } from './command.js';
import { DIR_OPTION, DIR_USAGE, NOW_OPTION, parseDuration, parseNow, shortId } from './repo-shared.js';

const NAME = 'repo status';

export const repoStatusCommand: Command = {
  name: NAME,
  usage: [
    `${NAME} --dir WORKDIR [--json] [--now ISO] [--check [--within DURATION]]`,
    '',
    `  ${DIR_USAGE}`,
    '  --json             print the status as JSON',
    '  --now ISO          compute "expires in" against this time (default: now)',
    '  --check            exit 1 when a signed role has expired or expires within --within (for cron, CI, alerting);',
    '                     the roles are listed on stderr',
    '  --within DURATION  with --check: how far ahead to look, e.g. 48h, 2d, 30m (default 0: expired only)',
    '',
    'exit 0  fine; 1  --check found expired or expiring roles; 2  bad arguments',
  ].join('\n'),
  async run(argv, io) {
    const { values } = parseCommandArgs(NAME, argv, { ...DIR_OPTION, ...NOW_OPTION, json: { type: 'boolean' }, check: { type: 'boolean' }, within: { type: 'string' } });
    const dir = required(NAME, 'dir', values.dir);
    const within = values.within === undefined ? 0 : parseDuration(NAME, 'within', values.within);
    if (values.within !== undefined && !values.check) throw new EdgesealError('USAGE', `${NAME}: --within only applies with --check (see 'edgeseal ${NAME} --help')`);
    const status = repoStatus(await loadWorkdir(dir, { keys: false }), parseNow(NAME, values.now));
    if (values.json) {
      io.out(JSON.stringify(status, null, 2));
    } else {
      io.out(`${'role'.padEnd(12)} ${'version'.padEnd(8)} ${'expires'.padEnd(34)} ${'threshold'.padEnd(10)} keys`);
      for (const s of status) {
        io.out(line(s));
        if (s.ceremony) for (const l of ceremonyLines(s.ceremony)) io.out(l);
      }
    }
    if (!values.check) return EXIT.OK;
    const problems = expiryProblems(status, within);
    for (const p of problems) {
      const when = p.state === 'expired' ? `EXPIRED ${relative(p.inSeconds).replace('EXPIRED ', '')}` : `expires ${relative(p.inSeconds)}`;
      io.err(`check: ${p.role} v${p.version} ${when} (${p.expires})`);
    }
    if (problems.length > 0) {
      io.err(`check failed: ${problems.map((p) => p.role).join(', ')}; re-sign timestamp/snapshot with 'edgeseal repo refresh', other roles with 'edgeseal repo sign --refresh ROLE' + publish`);
      return EXIT.REFUSED;
    }
    io.out(`check: every signed role is valid for more than ${values.within ?? '0s'}`);
    return EXIT.OK;
  },
};

function line(s: RoleStatus): string {
  const version = s.version === 0 ? 'unsigned' : `v${s.version}`;
  const expires = s.version === 0 ? '-' : `${s.expires} (${relative(s.expiresInSeconds)})`;
  const notes = [s.pending ? 'unsigned changes' : '', s.targets !== undefined ? `${s.targets} targets` : '', s.delegatedBy !== 'root' ? `delegated by ${s.delegatedBy}` : '']
    .filter(Boolean)
    .join(', ');
  const keys = s.keyids.map(shortId).join(' ');
  return `${s.role.padEnd(12)} ${version.padEnd(8)} ${expires.padEnd(34)} ${`${s.threshold}/${s.keyids.length}`.padEnd(10)} ${keys}${notes ? `  [${notes}]` : ''}`;
}

function relative(seconds: number): string {
  const abs = Math.abs(seconds);
  const text = abs >= 86400 ? `${Math.floor(abs / 86400)}d` : abs >= 3600 ? `${Math.floor(abs / 3600)}h` : `${Math.floor(abs / 60)}m`;
  return seconds < 0 ? `EXPIRED ${text} ago` : `in ${text}`;
}

// The pending version under a role's line: per threshold, who signed (key id, name, key) and who is missing.
function ceremonyLines(c: CeremonyStatus): string[] {
  const lines = [`  pending v${c.version} (expires ${c.expires}, prepared ${c.preparedAt}): ${c.ready ? 'ready to publish' : 'needs signatures'}`];
  for (const t of c.thresholds) {
    lines.push(`    ${t.name}: ${t.signedBy.length}/${t.threshold} of ${t.keyids.length} keys${t.met ? ' (met)' : ''}`);
    for (const s of t.signedBy) lines.push(`      signed  ${shortId(s.keyid)}${s.by ? `  by ${s.by}` : ''}${s.key ? `  (${s.key})` : ''}`);
    for (const k of t.missing) lines.push(`      missing ${shortId(k)}`);
  }
  return lines;
}
