import { expect } from 'chai';
import { dispatch } from '../../src/cli/dispatch.js';
import { EXIT, type CliIo, type Command } from '../../src/cli/command.js';
import { COMMANDS, type CommandEntry } from '../../src/cli/commands.js';
import { EdgesealError } from '../../src/core/errors.js';

function capture(): CliIo & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, out: (l) => lines.push(l), err: (l) => errors.push(l), isTTY: false };
}

const fake = (name: string, run: Command['run']): CommandEntry => ({
  name,
  summary: `does ${name}`,
  load: () => Promise.resolve({ name, usage: `${name} [x]`, run }),
});

describe('cli dispatch', () => {
  it('routes multi-word commands to the longest match', async () => {
    const seen: string[][] = [];
    const commands = [
      fake('repo', () => Promise.resolve(5)),
      fake('repo init', (argv) => {
        seen.push(argv);
        return Promise.resolve(0);
      }),
    ];
    const io = capture();
    expect(await dispatch(['repo', 'init', '--dir', 'x'], io, commands)).to.equal(0);
    expect(seen).to.deep.equal([['--dir', 'x']]);
  });

  it('turns an EdgesealError into one line with its code and a scriptable exit code', async () => {
    const io = capture();
    const code = await dispatch(['v'], io, [fake('v', () => Promise.reject(new EdgesealError('DIGEST_MISMATCH', 'expected a, found b')))]);
    expect(code).to.equal(EXIT.REFUSED);
    expect(io.errors).to.deep.equal(['edgeseal v: error [DIGEST_MISMATCH]: expected a, found b']);
  });

  it('maps environment and usage codes to their exit codes', async () => {
    const io = capture();
    expect(await dispatch(['t'], io, [fake('t', () => Promise.reject(new EdgesealError('TPM_UNREACHABLE', 'no tpm')))])).to.equal(EXIT.ENVIRONMENT);
    expect(await dispatch(['t'], io, [fake('t', () => Promise.reject(new EdgesealError('USAGE', 'bad')))])).to.equal(EXIT.USAGE);
  });

  it('prints per-command help without running it', async () => {
    const io = capture();
    let ran = false;
    const code = await dispatch(['x', '--help'], io, [fake('x', () => ((ran = true), Promise.resolve(0)))]);
    expect(code).to.equal(0);
    expect(ran).to.equal(false);
    expect(io.lines.join('\n')).to.contain('usage: edgeseal x [x]');
  });

  it('rejects an unknown command with usage exit code', async () => {
    const io = capture();
    expect(await dispatch(['nope'], io, [])).to.equal(EXIT.USAGE);
    expect(io.errors[0]).to.contain("unknown command 'nope'");
  });

  it('registers every command under the name its module answers to', async () => {
    for (const entry of COMMANDS) {
      const command = await entry.load();
      expect(command.name, `registry entry '${entry.name}'`).to.equal(entry.name);
      expect(command.usage.startsWith(entry.name), `usage of '${entry.name}'`).to.equal(true);
    }
  });
});
