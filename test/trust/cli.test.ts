import { expect } from 'chai';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT, type CliIo } from '../../src/cli/command.js';
import { dispatch } from '../../src/cli/dispatch.js';
import { withTpm } from '../../src/cli/tpm-status.js';
import { sha256 } from '../../src/trust/anchor-secret.js';
import type { TrustStatus } from '../../src/trust/status.js';
import { freePort } from '../helpers/free-port.js';
import { startSwtpm, type Swtpm } from '../helpers/swtpm.js';
import { rootJson } from './tpm-fixture.js';

function capture(): CliIo & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, out: (l) => lines.push(l), err: (l) => errors.push(l), isTTY: false };
}

describe('edgeseal provision and tpm status (CLI, against swtpm)', function () {
  let swtpm: Swtpm;
  let stateDir: string;
  let rootPath: string;
  before(async () => {
    swtpm = await startSwtpm();
    stateDir = await mkdtemp(join(tmpdir(), 'edgeseal-cli-'));
    rootPath = join(stateDir, 'root.json');
    await writeFile(rootPath, rootJson(1));
  });
  after(async () => swtpm?.stop());
  const run = async (...argv: string[]) => {
    const io = capture();
    const code = await dispatch(argv, io);
    return { code, out: io.lines.join('\n'), err: io.errors.join('\n') };
  };
  const tpmArgs = () => ['--tpm-swtpm', swtpm.address, '--state-dir', stateDir];

  it('prints usage with --help and refuses missing or conflicting options with exit 2', async () => {
    const help = await run('provision', '--help');
    expect(help.code).to.equal(EXIT.OK);
    expect(help.out).to.contain('--hardware-id ID').and.contain('0x018e5e00');
    expect((await run('provision', '--hardware-id', 'board-a')).code).to.equal(EXIT.USAGE);
    const both = await run('tpm', 'status', '--tpm-swtpm', swtpm.address, '--tpm-device', '/dev/tpmrm0');
    expect(both.code).to.equal(EXIT.USAGE);
    expect(both.err).to.contain('[USAGE]');
    expect((await run('provision', '--root', rootPath, '--hardware-id', 'board-a', '--pcrs', 'sha1:0', ...tpmArgs())).code).to.equal(EXIT.USAGE);
  });

  it('says what was tried when no TPM answers (exit 3, TPM_UNREACHABLE), without a stack trace', async () => {
    const r = await run('tpm', 'status', '--tpm-swtpm', `127.0.0.1:${await freePort()}`, '--state-dir', stateDir);
    expect(r.code).to.equal(EXIT.ENVIRONMENT);
    expect(r.err).to.contain('[TPM_UNREACHABLE]').and.contain('swtpm');
    expect(r.err).not.to.contain('    at ');
  });

  it('tpm status on an unprovisioned TPM says so (exit 1, NV_PIN_INVALID) and defines nothing', async () => {
    const r = await run('tpm', 'status', ...tpmArgs(), '--json');
    expect(r.code).to.equal(EXIT.REFUSED);
    const status = JSON.parse(r.out) as TrustStatus;
    expect(status.anchors).to.deep.include({ ok: false, code: 'NV_PIN_INVALID' });
    expect(status.nvIndices.every((n) => !n.defined && !n.asProvisioned)).to.be.true;
    expect(status.measurement).to.deep.equal({ ok: true, value: { pcr: 6, sha256: '0'.repeat(64) } });
    const again = JSON.parse((await run('tpm', 'status', ...tpmArgs(), '--json')).out) as TrustStatus;
    expect(again.nvIndices.some((n) => n.defined)).to.be.false;
  });

  it('provisions, is a no-op the second time, and refuses other anchors without --force', async () => {
    const first = await run('provision', '--root', rootPath, '--hardware-id', 'board-a', ...tpmArgs());
    expect(first.code, first.err).to.equal(EXIT.OK);
    expect(first.out).to.match(/^provisioned board-a-[0-9a-f]{12}/).and.contain(Buffer.from(sha256(rootJson(1))).toString('hex'));
    const again = await run('provision', '--root', rootPath, '--hardware-id', 'board-a', ...tpmArgs());
    expect(again.code).to.equal(EXIT.OK);
    expect(again.out).to.contain('already provisioned');
    const other = await run('provision', '--root', rootPath, '--hardware-id', 'board-b', ...tpmArgs());
    expect(other.code).to.equal(EXIT.USAGE);
    expect(other.err).to.contain('[ANCHOR_EXISTS]').and.contain('--force');
  });

  it('tpm status reports TPM, PCRs, NV indices, floors and that the anchors unseal; exit 1 once PCRs change', async () => {
    const ok = await run('tpm', 'status', ...tpmArgs(), '--json');
    expect(ok.code, ok.err).to.equal(EXIT.OK);
    const status = JSON.parse(ok.out) as TrustStatus;
    expect(status.tpm.ok && status.tpm.value.manufacturer).to.equal('IBM');
    expect(status.policyPcrs).to.equal('sha256:0,2,4,7');
    expect(status.pcrValues.ok && status.pcrValues.value.map((v) => v.pcr)).to.deep.equal([0, 2, 4, 7]);
    expect(status.nvIndices.map((n) => [n.role, n.defined, n.asProvisioned])).to.deep.equal([
      ['pin', true, true],
      ['rootVersion', true, true],
      ['securityVersion', true, true],
      ['revocationVersion', true, true],
      ['targetsVersion', true, true],
    ]);
    expect(status.floors).to.deep.equal({ ok: true, value: { rootVersion: 0, securityVersion: 0, revocationVersion: 0, targetsVersion: 0 } });
    expect(status.anchors.ok).to.be.true;
    expect(status.measurement).to.deep.include({ ok: true });
    expect(status.pcrPolicy, 'sealed to plain PolicyPCR: no authority').to.deep.equal({ ok: true });

    await withTpm({ swtpm: swtpm.address }, (tpm) => tpm.pcrExtend(4, [{ hash: 'sha256', digest: sha256(Uint8Array.of(1)) }]));
    const changed = await run('tpm', 'status', ...tpmArgs());
    expect(changed.code).to.equal(EXIT.REFUSED);
    expect(changed.out).to.match(/anchors\s+unavailable \[ANCHOR_UNAVAILABLE\]/).and.contain('floors      root version 0');
    expect(changed.out).to.contain('pcr policy  plain PolicyPCR (no PCR-policy authority: a boot-chain change needs edgeseal reseal)');
  });
});
