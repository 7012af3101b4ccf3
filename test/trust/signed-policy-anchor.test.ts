import { expect } from 'chai';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sealedAuthPolicy } from '../../src/tpm/object.js';
import { ownerAuth } from '../../src/tpm/nv.js';
import { establishTrust } from '../../src/trust/establish.js';
import { REVOCATION_INDEX, encodePcrPolicy, generationBit, pointFromKey, signPcrPolicy } from '../../src/trust/pcr-policy.js';
import { provision } from '../../src/trust/provision.js';
import { decodeSealedAnchor, encodeSealedAnchor, trustPaths } from '../../src/trust/state-files.js';
import { expectCodeAsync } from '../helpers/expect-code.js';
import { NOW, POLICY_PCRS, rootJson, startTrustFixture, type TrustFixture } from './tpm-fixture.js';

// Issue 11 B on the device: an anchor sealed to a PCR-policy authority survives a boot-chain change
// with the same report key and floors once a policy for the new PCR values is signed; an older
// generation, once revoked, no longer opens it.
describe('anchors sealed to a PCR-policy authority (PolicyAuthorize) against swtpm', function () {
  let fx: TrustFixture;
  let key: KeyObject;
  before(async () => {
    fx = await startTrustFixture();
    key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  });
  after(async () => fx?.close());

  async function publish(stateDir: string, generation: number): Promise<void> {
    const { values } = await fx.tpm.pcrRead(POLICY_PCRS);
    const dir = trustPaths(stateDir).pcrPolicies;
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, `${generation}.json`), encodePcrPolicy(signPcrPolicy({ generation, pcrs: POLICY_PCRS, values }, key)));
  }

  it('a boot-chain change with a newly signed policy keeps the report key and floors; without one, ANCHOR_UNAVAILABLE; a revoked generation stays shut', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'edgeseal-authority-'));
    const p = await provision({ tpm: fx.tpm, stateDir, rootBytes: rootJson(1), hardwareId: 'board-a', now: NOW, pcrs: POLICY_PCRS, force: true, pcrAuthority: pointFromKey(key) });
    const start = () => establishTrust({ tpm: fx.tpm, stateDir });
    // sealed to the authority, not to today's PCR values: nothing opens it before a policy is published
    await expectCodeAsync(start, 'ANCHOR_UNAVAILABLE');
    await publish(stateDir, 1);
    const first = await start();
    expect(first.pcrPolicyGeneration).to.equal(1);
    expect(first.identity.deviceId).to.equal(p.identity.deviceId);
    await first.raiseFloor('securityVersion', 4);

    // the boot chain changes (PCR 4: a new kernel)
    await fx.tpm.pcrExtend(4, [{ hash: 'sha256', digest: new Uint8Array(32).fill(9) }]);
    await expectCodeAsync(start, 'ANCHOR_UNAVAILABLE');
    await publish(stateDir, 2);
    const second = await start();
    expect(second.pcrPolicyGeneration).to.equal(2);
    expect([second.identity.deviceId, second.identity.reportPublicKey]).to.deep.equal([p.identity.deviceId, p.identity.reportPublicKey]);
    expect(second.floors.securityVersion).to.equal(4);

    // the new chain committed: generation 1 is revoked; booting the old chain again (reboot, PCR 4
    // back at its old value) finds only the generation-1 policy, and the TPM refuses it
    await fx.tpm.nvSetBits(REVOCATION_INDEX, generationBit(1), ownerAuth());
    await fx.reboot();
    const err = await expectCodeAsync(start, 'ANCHOR_UNAVAILABLE');
    expect(err.message).to.contain('all refused by the TPM');
  });

  it('a pcrAuthority edited in sealed-anchor.json does not make another key’s policies count (ANCHOR_MISMATCH)', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'edgeseal-authority-'));
    await provision({ tpm: fx.tpm, stateDir, rootBytes: rootJson(1), hardwareId: 'board-a', now: NOW, pcrs: POLICY_PCRS, force: true, pcrAuthority: pointFromKey(key) });
    const path = trustPaths(stateDir).sealedAnchor;
    const blob = decodeSealedAnchor(await readFile(path, 'utf8'));
    expect(sealedAuthPolicy(blob.public).length).to.equal(32);
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    await writeFile(path, encodeSealedAnchor({ ...blob, pcrAuthority: pointFromKey(other) }));
    await expectCodeAsync(() => establishTrust({ tpm: fx.tpm, stateDir }), 'ANCHOR_MISMATCH');
  });
});
