import { loadWorkdir } from '../repo/workdir.js';
import { REVOCATIONS_ROLE } from '../revocation/publish.js';
import { loadCurrentList } from '../revocation/publisher-workdir.js';
import { EXIT, parseCommandArgs, required, type Command } from './command.js';
import { DIR_OPTION, DIR_USAGE } from './repo-shared.js';
import { printEntries } from './revocations-print.js';

const NAME = 'repo revocations';

export const repoRevocations: Command = {
  name: NAME,
  usage: [`${NAME} --dir WORKDIR [--json]`, '', `  ${DIR_USAGE}`, '  --json            print the list document itself'].join('\n'),
  async run(argv, io) {
    const { values } = parseCommandArgs(NAME, argv, { ...DIR_OPTION, json: { type: 'boolean' } });
    const dir = required(NAME, 'dir', values.dir);
    const repo = await loadWorkdir(dir, { keys: false });
    const list = await loadCurrentList(dir, repo);
    if (!list) {
      io.out(`no revocation list yet (add one with 'edgeseal repo revoke --dir ${dir} …')`);
      return EXIT.OK;
    }
    if (values.json) {
      io.out(JSON.stringify(list, null, 2));
      return EXIT.OK;
    }
    const signed = repo.pending().includes(REVOCATIONS_ROLE) ? 'staged, not signed yet (run edgeseal repo publish)' : 'signed';
    io.out(`revocation list v${list.version}  issued ${list.issued}  expires ${list.expires}  ${signed}`);
    printEntries(io, list);
    return EXIT.OK;
  },
};
