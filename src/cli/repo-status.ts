import { repoStatus, type RoleStatus } from '../repo/status.js';
import { loadWorkdir } from '../repo/workdir.js';
import { EXIT, parseCommandArgs, required, type Command } from './command.js';
import { DIR_OPTION, DIR_USAGE, NOW_OPTION, parseNow, shortId } from './repo-shared.js';

const NAME = 'repo status';

export const repoStatusCommand: Command = {
  name: NAME,
  usage: [`${NAME} --dir WORKDIR [--json] [--now ISO]`, '', `  ${DIR_USAGE}`, '  --json             print the status as JSON', '  --now ISO          compute "expires in" against this time (default: now)'].join('\n'),
  async run(argv, io) {
    const { values } = parseCommandArgs(NAME, argv, { ...DIR_OPTION, ...NOW_OPTION, json: { type: 'boolean' } });
    const dir = required(NAME, 'dir', values.dir);
    const status = repoStatus(await loadWorkdir(dir, { keys: false }), parseNow(NAME, values.now));
    if (values.json) {
      io.out(JSON.stringify(status, null, 2));
      return EXIT.OK;
    }
    io.out(`${'role'.padEnd(12)} ${'version'.padEnd(8)} ${'expires'.padEnd(34)} ${'threshold'.padEnd(10)} keys`);
    for (const s of status) io.out(line(s));
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
