import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { listenNotify } from '../helpers/notify-listener.js';
import { waitFor } from '../helpers/wait-for.js';
import { MAIN, runCli, startCli } from './cli-child.js';
import { LiveRepo } from './live-repo.js';
import { S, useBoardRig } from './rig.js';

const MIB = 1024 * 1024;
const percents = (lines: readonly string[]): number[] => lines.map((l) => Number(/boot check: (\d+)%/.exec(l)?.[1]));

// The boot check's progress as people see it (issue 12 F), over a board whose images pass 64 MiB in all:
// STATUS= from the agent's boot sequence; from `edgeseal boot-check`, log lines, or a bar on a terminal.
describe('boot check progress, agent and command as processes (real swtpm)', function () {
  const rig = useBoardRig(this, { scratch: 'es-boot-progress-' });

  it('the agent sends STATUS= progress before READY=1, boot-check logs lines or draws a bar, monotonic to 100 % over every image', async () => {
    const pub = new LiveRepo(join(rig.dir, 'repo'));
    // a large app image beside the A/B firmware: its digest runs on a pool worker, the slot's on the main thread
    const big = Buffer.alloc(70 * MIB, 0x5a);
    big.write('edgeseal boot progress', 0);
    pub.addRaw('apps/big.bin', big, { hardwareIds: ['board-a'], version: '1.0.0', securityVersion: 0, kind: 'app' });
    await pub.publish();
    const bigPath = join(rig.dir, 'big.bin');
    await writeFile(bigPath, big);
    const board = await rig.board({ logLevel: 'info', images: [{ target: S.v1.target, kind: 'firmware' }, { target: 'apps/big.bin', kind: 'app', path: bigPath }] }, 'board-a', pub.dir);

    const { sock, got, stop } = await listenNotify(board.dir);
    const { child, done } = startCli(['agent', '--config', board.configPath], { NOTIFY_SOCKET: sock });
    try {
      await waitFor('READY=1', () => got.some((m) => m.startsWith('READY=1')));
      const ready = got.findIndex((m) => m.startsWith('READY=1'));
      const status = got.slice(0, ready).filter((m) => m.startsWith('STATUS=boot check: '));
      expect(status.length, got.join(' | ')).to.be.greaterThan(1);
      expect(percents(status)).to.deep.equal([...percents(status)].sort((a, b) => a - b));
      expect(status.at(-1)).to.match(/^STATUS=boot check: 100% .*; 2\/2 images$/);
      child.kill('SIGTERM');
      expect((await done).code).to.equal(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await stop();
    }

    const check = await runCli(['boot-check', '--config', board.configPath]);
    expect(check.code, check.err).to.equal(0);
    const lines = check.err.split('\n').filter((l) => l.includes('boot check: '));
    expect(lines.length, check.err).to.be.greaterThan(1);
    expect(percents(lines)).to.deep.equal([...percents(lines)].sort((a, b) => a - b));
    expect(lines.at(-1)).to.contain('boot check: 100% (70.1/70.1 MiB)').and.contain('2/2 images');
    expect(check.err, 'not a terminal: no bar').to.not.contain('\r');

    // on a terminal (script(1) gives it one): the bar, redrawn in place, ended by a newline; no log lines
    const args = [process.execPath, MAIN, 'boot-check', '--config', board.configPath].map((a) => `'${a}'`).join(' ');
    const { stdout: tty } = await promisify(execFile)('script', ['-qec', args, '/dev/null'], { encoding: 'utf8' });
    expect(tty).to.contain('\r\x1b[K  boot check (0/2 images) [').and.contain('\r\x1b[K  boot check (2/2 images) [####################] 100% 70.1/70.1 MiB');
    expect(tty).to.not.match(/boot check: \d+%/);
    expect(tty).to.contain('boot check: all images verified');
  });
});
