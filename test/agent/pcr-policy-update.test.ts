import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { chmod, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { agentPaths } from '../../src/agent/agent-state.js';
import { bootSequence, type BootOutcome } from '../../src/agent/boot-sequence.js';
import { runUpdate } from '../../src/agent/update.js';
import { PCR_POLICY_TYPE } from '../../src/pcrpolicy/targets.js';
import { TpmClient } from '../../src/tpm/client.js';
import { establishTrust } from '../../src/trust/establish.js';
import { encodePcrPolicy, signPcrPolicy } from '../../src/trust/pcr-policy.js';
import { parsePcrSelection } from '../../src/trust/pcr-selection.js';
import { collectTrustStatus } from '../../src/trust/status.js';
import { expectCodeAsync } from '../helpers/expect-code.js';
import { runCli } from '../helpers/run-cli.js';
import { LiveRepo } from './live-repo.js';
import { NOW, S, useBoardRig, withDevice, type Board } from './rig.js';

const run = promisify(execFile);
const SEL = parsePcrSelection('sha256:0,2,4,7');
const NEW_KERNEL = new Uint8Array(32).fill(0x4b); // what slot B's boot chain measures into PCR 4

// Issue 11 B acceptance through the real update path (swtpm, live TUF repo, file boot selector): a
// release that changes the boot chain is armed only once its signed PCR policy (a TUF target) is
// cached; a rollback during its trial still unseals with the old generation; once it commits, the old
// generation is revoked on the TPM and replaying it on the old chain is refused. Same report key, floors.
describe('signed PCR policies through the update path (real swtpm)', function () {
  const rig = useBoardRig(this, { scratch: 'es-pcr-policy-update-' });
  const authority = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  let broken: string;
  before(async () => {
    broken = join(rig.dir, 'app-broken');
    await writeFile(broken, '#!/bin/sh\nexit 1\n');
    await chmod(broken, 0o755);
  });

  const withTpm = async <T>(fn: (tpm: TpmClient) => Promise<T>): Promise<T> => {
    const tpm = await TpmClient.open({ swtpm: rig.swtpm.address });
    try {
      return await fn(tpm);
    } finally {
      await tpm.close();
    }
  };
  // the bootloader picks a slot, the TPM resets, slot B's new kernel is measured, the agent starts
  async function boot(b: Board): Promise<BootOutcome> {
    const slot = await b.boot.simulateBoot();
    await rig.swtpm.restart();
    if (slot === 'B') await withTpm((tpm) => tpm.pcrExtend(4, [{ hash: 'sha256', digest: NEW_KERNEL }]));
    return withDevice(b, (dev) => bootSequence(dev, NOW));
  }
  // the publisher's measured values for slot B's chain, signed as generation 2
  async function policyForNewChain(): Promise<Uint8Array> {
    await rig.swtpm.restart();
    const values = await withTpm(async (tpm) => {
      await tpm.pcrExtend(4, [{ hash: 'sha256', digest: NEW_KERNEL }]);
      return (await tpm.pcrRead(SEL)).values;
    });
    await rig.swtpm.restart();
    return new TextEncoder().encode(encodePcrPolicy(signPcrPolicy({ generation: 2, pcrs: SEL, values }, authority)));
  }
  async function setup(over: Record<string, unknown>): Promise<{ pub: LiveRepo; b: Board }> {
    const pub = new LiveRepo(await mkdtemp(join(rig.dir, 'repo-')));
    await pub.publish();
    const b = await rig.board(over, 'board-a', pub.dir, { pcrAuthority: authority });
    pub.addV2({ pcrPolicyGeneration: 2 });
    await pub.publish();
    return { pub, b };
  }
  const generation = (b: Board): Promise<number | undefined> => withDevice(b, (dev) => Promise.resolve(dev.trust.pcrPolicyGeneration));

  it('refuses to arm a boot-chain change without its cached signed policy (PCR_POLICY_MISSING); arms it once TUF delivers it; a rollback during the trial still unseals', async () => {
    const { pub, b } = await setup({ update: { health: { checks: [{ name: 'app', argv: [broken] }], deadlineSeconds: 30 } } });
    const refused = await withDevice(b, (dev) => runUpdate(dev, {}));
    expect(refused).to.include({ action: 'refused', code: 'PCR_POLICY_MISSING' });
    expect(refused.message).to.contain('expected a cached signed PCR policy of generation 2').and.contain('found generations 1 only');
    expect(await b.boot.state(), 'nothing armed').to.deep.include({ trySlot: null });

    pub.addRaw('pcr-policies/2.json', await policyForNewChain(), { type: PCR_POLICY_TYPE, generation: 2 });
    await pub.publish();
    expect(await withDevice(b, (dev) => runUpdate(dev, {}))).to.include({ action: 'installed', next: 'reboot' });
    expect(await readdir(join(agentPaths(b.config.stateDir).metadataDir, 'pcr-policies')), 'cached in the promoted set').to.deep.equal(['2.json']);

    // the trial boot runs the new chain: generation 2 opens the anchor, the health check fails, back to A
    expect(await boot(b)).to.include({ action: 'rolled-back', code: 'HEALTH_CHECK_FAILED' });
    // the old chain boots again and still unseals: generation 1 was not revoked at arm, nor at the failed trial
    expect(await boot(b)).to.include({ action: 'verified', proceed: true });
    expect(await generation(b)).to.equal(1);
    expect(await withDevice(b, (dev) => dev.trust.readRevokedPcrPolicies())).to.equal(0b1n);
  });

  it('a committed boot-chain change keeps the report key, raises only the committed floor, revokes generation 1: replaying it on the old chain is refused', async () => {
    const { pub, b } = await setup({});
    const before = await withDevice(b, (dev) => Promise.resolve(dev.trust.identity));
    pub.addRaw('pcr-policies/2.json', await policyForNewChain(), { type: PCR_POLICY_TYPE, generation: 2 });
    await pub.publish();
    expect(await withDevice(b, (dev) => runUpdate(dev, {}))).to.include({ action: 'installed' });
    expect(await withDevice(b, (dev) => dev.trust.readRevokedPcrPolicies()), 'nothing revoked at arm').to.equal(0b1n);

    expect(await boot(b)).to.include({ action: 'committed', proceed: true });
    const after = await withDevice(b, async (dev) => ({ identity: dev.trust.identity, floors: await dev.trust.readFloors(), generation: dev.trust.pcrPolicyGeneration }));
    expect(after.identity.reportPublicKey).to.equal(before.reportPublicKey);
    expect(after.generation).to.equal(2);
    expect(after.floors.securityVersion).to.equal(S.v2.securityVersion);

    // tpm2-tools as the oracle: the revocation index holds bits 0 and 1
    const dir = await mkdtemp(join(tmpdir(), 'es-pcr-nv-'));
    await run('tpm2_nvread', ['-C', 'o', '-s', '8', '-o', join(dir, 'bits'), '0x018e5e10'], { env: { ...process.env, TPM2TOOLS_TCTI: rig.swtpm.tcti } });
    expect((await readFile(join(dir, 'bits'))).toString('hex')).to.equal('0000000000000003');

    const status = await withTpm((tpm) => collectTrustStatus({ tpm, stateDir: b.config.stateDir }));
    expect(status.pcrPolicy.ok && status.pcrPolicy.value).to.deep.include({ generation: 2, committed: 2, revoked: [1] });
    const shown = await runCli('tpm', 'status', '--tpm-swtpm', rig.swtpm.address, '--state-dir', b.config.stateDir);
    expect(shown.out).to.match(/pcr policy {2}authority 000b[0-9a-f]{64}; generation 2 opens the anchor now; committed generation 2 \(1 revoked\)/);

    // the old, vulnerable chain booted again (PCR 4 back to its old value): its signed policy (generation 1)
    // matches the PCRs, and the TPM refuses it
    await rig.swtpm.restart();
    const err = await withTpm((tpm) => expectCodeAsync(() => establishTrust({ tpm, stateDir: b.config.stateDir, startMeasurementLog: false }), 'ANCHOR_UNAVAILABLE'));
    expect(err.message).to.contain('found 1, all refused by the TPM');
  });
});
