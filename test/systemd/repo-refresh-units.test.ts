import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const UNITS = ['edgeseal-repo-refresh.service', 'edgeseal-repo-refresh.timer'];
const unit = (name: string): Promise<string> => readFile(new URL(`../../../systemd/${name}`, import.meta.url), 'utf8');

describe('systemd units: publisher refresh timer', () => {
  it('pass systemd-analyze verify (ExecStart pointed at an executable that exists here)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'es-refresh-units-'));
    try {
      const paths: string[] = [];
      for (const name of UNITS) {
        await writeFile(join(dir, name), (await unit(name)).replaceAll('/usr/bin/edgeseal', process.execPath));
        paths.push(join(dir, name));
      }
      const { stdout, stderr } = await promisify(execFile)('systemd-analyze', ['verify', ...paths]).catch((err: { stdout: string; stderr: string }) => err);
      expect(`${stdout}${stderr}`.split('\n').filter((l) => l.includes('edgeseal'))).to.deep.equal([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('run repo refresh, alarm through status --check, and take the PIN as a credential', async () => {
    const service = await unit('edgeseal-repo-refresh.service');
    expect(service).to.match(/^ExecStart=\/usr\/bin\/edgeseal repo refresh /m);
    expect(service).to.match(/^ExecStartPost=\/usr\/bin\/edgeseal repo status .*--check --within 48h$/m);
    expect(service).to.match(/^LoadCredential=hsm-pin:/m);
    expect(service).to.contain('Type=oneshot');
    const timer = await unit('edgeseal-repo-refresh.timer');
    expect(timer).to.match(/^OnCalendar=hourly$/m);
    expect(timer).to.match(/^Unit=edgeseal-repo-refresh\.service$/m);
  });
});
