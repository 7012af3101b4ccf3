import { expect } from 'chai';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { runHealthChecks, type HealthConfig } from '../../src/agent/health-checks.js';
import { installFakeSystemctl } from './fake-systemctl.js';

const cfg = (over: Partial<HealthConfig>): HealthConfig => ({ checks: [], units: [], runVia: [], deadlineSeconds: 30, mode: 'agent', ...over });
const ok = { name: 'ok', argv: ['true'] };

describe('health checks of a trial boot (argv, units, deadline)', function () {
  this.timeout(20_000);
  const savedPath = process.env.PATH;
  before(async () => {
    const bin = await mkdtemp(join(tmpdir(), 'es-health-'));
    await installFakeSystemctl(bin, ['app.service']);
    process.env.PATH = `${bin}${delimiter}${savedPath ?? ''}`;
  });
  after(() => {
    process.env.PATH = savedPath;
  });

  it('passes when every command exits 0 and every unit is active', async () => {
    expect(await runHealthChecks(cfg({ checks: [ok], units: ['app.service'] }))).to.deep.equal({ ok: true });
  });

  it('names the first failing command with its exit status and output', async () => {
    const r = await runHealthChecks(cfg({ checks: [ok, { name: 'api', argv: ['sh', '-c', 'echo no listener on :8080 >&2; exit 1'] }, { name: 'never', argv: ['false'] }] }));
    expect(r).to.deep.equal({ ok: false, check: 'api', message: 'expected exit 0, found exit 1: no listener on :8080' });
  });

  it('runs argv without a shell: metacharacters reach the program as plain arguments', async () => {
    // through a shell this would run `test x`, `false = x` and `false`, and fail
    const r = await runHealthChecks(cfg({ checks: [{ name: 'literal', argv: ['test', 'x;false', '=', 'x;false'] }] }));
    expect(r).to.deep.equal({ ok: true });
  });

  it('asks systemctl is-active for each unit and names an inactive one', async () => {
    const r = await runHealthChecks(cfg({ checks: [ok], units: ['app.service', 'net.service'] }));
    expect(r).to.deep.equal({ ok: false, check: 'unit net.service', message: 'expected exit 0, found exit 3: inactive' });
  });

  it('runs each command under the runVia prefix', async () => {
    const check = { name: 'wrapped', argv: ['sh', '-c', 'test "$WRAPPED" = 1'] };
    expect(await runHealthChecks(cfg({ checks: [check] }))).to.include({ ok: false });
    expect(await runHealthChecks(cfg({ checks: [check], runVia: ['env', 'WRAPPED=1'] }))).to.deep.equal({ ok: true });
  });

  it('a program that does not exist fails its check, naming it', async () => {
    const r = await runHealthChecks(cfg({ checks: [{ name: 'gone', argv: ['/nonexistent/health'] }] }));
    expect(r).to.include({ ok: false, check: 'gone' });
    expect((r as { message: string }).message).to.match(/^expected to start \/nonexistent\/health, found .*ENOENT/);
  });

  it('a check still running at the deadline is killed and fails', async () => {
    const r = await runHealthChecks(cfg({ checks: [{ name: 'hang', argv: ['sleep', '30'] }], deadlineSeconds: 1 }));
    expect(r).to.deep.equal({ ok: false, check: 'hang', message: 'expected exit 0 within the 1s health deadline, found it still running (killed)' });
  });
});
