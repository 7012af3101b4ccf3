import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { EXIT } from '../../src/cli/command.js';
import { withTpm } from '../../src/cli/tpm-status.js';
import type { TpmResponseError } from '../../src/tpm/rc.js';
import { establishTrust } from '../../src/trust/establish.js';
import { DEFAULT_NV_INDICES } from '../../src/trust/nv-layout.js';
import { readOwnerAuthFile } from '../../src/trust/owner-auth.js';
import { expectCodeAsync } from '../helpers/expect-code.js';
import { startSwtpm, type Swtpm } from '../helpers/swtpm.js';
import { rootJson } from './tpm-fixture.js';
import { runCli as run } from '../helpers/run-cli.js';

const PASSWORD = 'owner-s3cret';

describe('TPM owner password (tpm.ownerAuthFile, --owner-auth-file) against swtpm', function () {
  this.timeout(30_000);
  let swtpm: Swtpm;
  let dir: string;
  let authFile: string;
  before(async () => {
    swtpm = await startSwtpm();
    dir = await mkdtemp(join(tmpdir(), 'edgeseal-owner-auth-'));
    authFile = join(dir, 'owner.pass');
    await writeFile(authFile, `${PASSWORD}\n`, { mode: 0o600 });
    await writeFile(join(dir, 'root.json'), rootJson(1));
    // TPM2_HierarchyChangeAuth(owner) with tpm2-tools; no client of ours is connected (swtpm serves one)
    await promisify(execFile)('tpm2_changeauth', ['-c', 'owner', PASSWORD], { env: { ...process.env, TPM2TOOLS_TCTI: swtpm.tcti } });
  });
  after(async () => swtpm?.stop());
  const provisionArgs = (): string[] => ['provision', '--root', join(dir, 'root.json'), '--hardware-id', 'board-a', '--tpm-swtpm', swtpm.address, '--state-dir', join(dir, 'state')];

  it('reads the password file once: one trailing newline dropped; missing, empty or oversized files are refused naming the path', async () => {
    const auth = await readOwnerAuthFile(authFile, 'tpm.ownerAuthFile', 'CONFIG_INVALID');
    expect(auth.auth).to.deep.equal({ kind: 'password', password: new TextEncoder().encode(PASSWORD) });
    const missing = await expectCodeAsync(() => readOwnerAuthFile(join(dir, 'nope'), 'tpm.ownerAuthFile', 'CONFIG_INVALID'), 'CONFIG_INVALID');
    expect(missing.message).to.contain(join(dir, 'nope')).and.contain('ENOENT');
    await writeFile(join(dir, 'empty'), '\n');
    await expectCodeAsync(() => readOwnerAuthFile(join(dir, 'empty'), 'x', 'USAGE'), 'USAGE');
    await writeFile(join(dir, 'big'), 'x'.repeat(65));
    await expectCodeAsync(() => readOwnerAuthFile(join(dir, 'big'), 'x', 'USAGE'), 'USAGE');
    const cli = await run(...provisionArgs(), '--owner-auth-file', join(dir, 'nope'));
    expect(cli.code).to.equal(EXIT.USAGE);
    expect(cli.err).to.contain('[USAGE]').and.contain('--owner-auth-file').and.contain(join(dir, 'nope'));
  });

  it('provision without the password fails with TPM_RC_BAD_AUTH decoded, and writes nothing; with it, succeeds', async () => {
    const refused = await run(...provisionArgs());
    expect(refused.code).to.equal(EXIT.REFUSED);
    expect(refused.err).to.contain('[TPM_ERROR]').and.contain('TPM_RC_BAD_AUTH').and.contain('pass it with --owner-auth-file');
    await writeFile(join(dir, 'wrong.pass'), 'not-it');
    const wrong = await run(...provisionArgs(), '--owner-auth-file', join(dir, 'wrong.pass'));
    expect(wrong.code).to.equal(EXIT.REFUSED);
    expect(wrong.err).to.contain('TPM_RC_BAD_AUTH').and.contain(`the password in ${join(dir, 'wrong.pass')} is not the TPM owner password`);
    expect(refused.err).not.to.contain('    at ');
    expect((await run('tpm', 'status', '--tpm-swtpm', swtpm.address, '--state-dir', join(dir, 'state'))).out).to.contain('not defined');
    const ok = await run(...provisionArgs(), '--owner-auth-file', authFile);
    expect(ok.code, ok.err).to.equal(EXIT.OK);
    expect(ok.out).to.contain('provisioned ');
  });

  it('establishTrust and tpm status work with the password and fail closed without it; the pin cannot be undefined without it', async () => {
    const stateDir = join(dir, 'state');
    const ownerAuth = await readOwnerAuthFile(authFile, 'tpm.ownerAuthFile', 'CONFIG_INVALID');
    const trust = await withTpm({ swtpm: swtpm.address }, (tpm) => establishTrust({ tpm, stateDir, ownerAuth, startMeasurementLog: false }));
    expect(trust.identity.hardwareId).to.equal('board-a');
    const without = await withTpm({ swtpm: swtpm.address }, (tpm) => expectCodeAsync(() => establishTrust({ tpm, stateDir, startMeasurementLog: false }), 'TPM_ERROR'));
    expect((without as TpmResponseError).rcName).to.equal('TPM_RC_BAD_AUTH');

    const status = await run('tpm', 'status', '--tpm-swtpm', swtpm.address, '--state-dir', stateDir, '--owner-auth-file', authFile);
    expect(status.code, status.out).to.equal(EXIT.OK);
    const blind = await run('tpm', 'status', '--tpm-swtpm', swtpm.address, '--state-dir', stateDir);
    expect(blind.code).to.equal(EXIT.REFUSED);
    expect(blind.out).to.match(/anchors +unavailable \[TPM_ERROR\].*TPM_RC_BAD_AUTH.*pass it with --owner-auth-file/);

    // the point of the password: TPM access alone no longer deletes the write-once pin
    await withTpm({ swtpm: swtpm.address }, (tpm) => expectCodeAsync(() => tpm.nvUndefineSpace(DEFAULT_NV_INDICES.pin), 'TPM_ERROR'));
    const again = await withTpm({ swtpm: swtpm.address }, (tpm) => establishTrust({ tpm, stateDir, ownerAuth, startMeasurementLog: false }));
    expect(again.identity.deviceId).to.equal(trust.identity.deviceId);
  });
});
