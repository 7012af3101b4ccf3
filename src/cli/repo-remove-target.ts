import { loadWorkdir, saveWorkdir } from '../repo/workdir.js';
import { EXIT, parseCommandArgs, required, type Command } from './command.js';
import { DIR_OPTION, DIR_USAGE } from './repo-shared.js';

const NAME = 'repo remove-target';

export const repoRemoveTarget: Command = {
  name: NAME,
  usage: [`${NAME} --dir WORKDIR --name PATH [--role ROLE]`, '', `  ${DIR_USAGE}`, '  --name PATH   the target name', '  --role ROLE   the role listing it (default: whichever does)'].join('\n'),
  async run(argv, io) {
    const { values } = parseCommandArgs(NAME, argv, { ...DIR_OPTION, name: { type: 'string' }, role: { type: 'string' } });
    const dir = required(NAME, 'dir', values.dir);
    const name = required(NAME, 'name', values.name);
    const repo = await loadWorkdir(dir, { keys: false });
    repo.removeTarget(name, values.role !== undefined ? { role: values.role } : {});
    await saveWorkdir(dir, repo);
    io.out(`removed ${name}; unsigned changes: ${repo.pending().join(', ')}`);
    return EXIT.OK;
  },
};
