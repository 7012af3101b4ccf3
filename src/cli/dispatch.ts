import { asEdgesealError } from '../core/errors.js';
import { EXIT, exitCodeFor, type CliIo } from './command.js';
import { COMMANDS, type CommandEntry } from './commands.js';

// Node built-ins on every command's path come from process.getBuiltinModule, not import: an ESM import of a
// built-in builds its whole namespace, which runs every lazy export (fs.promises loads readline and streams,
// util its diff code, crypto webcrypto): 17 built-in modules and 1-5 ms of each `edgeseal verify`.
const { readFileSync } = process.getBuiltinModule('node:fs');

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function help(commands: readonly CommandEntry[]): string {
  const width = Math.max(...commands.map((c) => c.name.length), 8);
  return [
    'edgeseal — TUF-verified boot and OTA with TPM-anchored trust for edge devices',
    '',
    'usage: edgeseal <command> [options]   (edgeseal <command> --help for details)',
    '',
    'commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'exit codes: 0 ok · 1 refused (verification or gate said no) · 2 usage or config · 3 environment (TPM, disk, network) · 70 internal',
  ].join('\n');
}

// Commands may have several words ("repo init", "tpm status"): the longest matching name wins.
function findCommand(argv: string[], commands: readonly CommandEntry[]): CommandEntry | undefined {
  return [...commands]
    .sort((a, b) => b.name.length - a.name.length)
    .find((c) => argv.slice(0, c.name.split(' ').length).join(' ') === c.name);
}

// Runs one CLI invocation and returns its exit code; errors become one line with their code.
export async function dispatch(argv: string[], io: CliIo, commands: readonly CommandEntry[] = COMMANDS): Promise<number> {
  const [first] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    io.out(help(commands));
    return first === undefined ? EXIT.USAGE : EXIT.OK;
  }
  if (first === '--version' || first === '-V') {
    io.out(version());
    return EXIT.OK;
  }
  const entry = findCommand(argv, commands);
  if (!entry) {
    const group = commands.filter((c) => c.name.startsWith(`${first} `));
    io.err(`edgeseal: unknown command '${argv.slice(0, 2).join(' ')}'\n\n${help(group.length ? group : commands)}`);
    return EXIT.USAGE;
  }
  const args = argv.slice(entry.name.split(' ').length);
  try {
    const command = await entry.load();
    if (args.includes('--help') || args.includes('-h')) {
      io.out(`${entry.summary}\n\nusage: edgeseal ${command.usage}`);
      return EXIT.OK;
    }
    return await command.run(args, io);
  } catch (err) {
    const e = asEdgesealError(err);
    io.err(`edgeseal ${entry.name}: error [${e.code}]: ${e.message}`);
    if (e.code === 'INTERNAL' || process.env.EDGESEAL_DEBUG) io.err(String(e.stack ?? ''));
    return exitCodeFor(e.code);
  }
}
