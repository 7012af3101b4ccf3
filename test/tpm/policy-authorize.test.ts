import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { authorityName, authorityPublic, authorizationMessage, computePolicyAuthorize } from '../../src/tpm/authorize.js';
import { TpmWriter } from '../../src/tpm/marshal.js';
import { ownerAuth } from '../../src/tpm/nv.js';
import { computePolicyPcr } from '../../src/tpm/policy.js';
import { computePolicyNvBitsClear } from '../../src/tpm/policy-nv.js';
import type { PcrSelection } from '../../src/tpm/pcr.js';
import type { TpmResponseError } from '../../src/tpm/rc.js';
import type { EccPoint } from '../../src/tpm/salted-session.js';
import type { SignedPcrPolicy } from '../../src/tpm/seal-authorized.js';
import { expectCodeAsync } from '../helpers/expect-code.js';
import { useSwtpmClient } from '../helpers/swtpm-client.js';

const run = promisify(execFile);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const SEL: PcrSelection = { hash: 'sha256', pcrs: [0, 2, 4, 7] };
const SECRET = new Uint8Array(createHash('sha256').update('anchor').digest());

function authority(): { key: KeyObject; point: EccPoint } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  return { key: privateKey, point: { x: new Uint8Array(Buffer.from(jwk.x ?? '', 'base64url')), y: new Uint8Array(Buffer.from(jwk.y ?? '', 'base64url')) } };
}

// The publisher's side: sign the PolicyPCR digest of the PCR values a release will produce.
function signPolicy(a: { key: KeyObject; point: EccPoint }, values: ReadonlyMap<number, Uint8Array>, revocation?: { index: number; bits: bigint; nvName: Uint8Array }): SignedPcrPolicy {
  const pcrPolicy = computePolicyPcr(SEL, values);
  const approvedPolicy = revocation ? computePolicyNvBitsClear(pcrPolicy, revocation.nvName, revocation.bits) : pcrPolicy;
  const policyRef = new Uint8Array(0);
  const signature = new Uint8Array(sign('sha256', authorizationMessage(approvedPolicy, policyRef), { key: a.key, dsaEncoding: 'ieee-p1363' }));
  return { authority: a.point, approvedPolicy, policyRef, signature, ...(revocation ? { revocation: { index: revocation.index, bits: revocation.bits } } : {}) };
}

const BITS_INDEX = 0x018e5e10;

describe('signed PCR policies: TPM2_PolicyAuthorize with an ECC P-256 authority (swtpm)', function () {
  const rig = useSwtpmClient();

  it('the authority Name and PolicyAuthorize digest equal what tpm2_loadexternal and tpm2_policyauthorize compute', async function () {
    const a = authority();
    const dir = rig.swtpm.stateDir;
    await writeFile(join(dir, 'authority.pub'), new TpmWriter().tpm2b(authorityPublic(a.point)).finish());
    await writeFile(join(dir, 'approved.policy'), computePolicyPcr(SEL, (await rig.tpm.pcrRead(SEL)).values));
    await rig.stepAside(async () => {
      const env = { ...process.env, TPM2TOOLS_TCTI: rig.swtpm.tcti };
      const t = (cmd: string, ...args: string[]) => run(cmd, args, { env, cwd: dir });
      await t('tpm2_loadexternal', '-C', 'o', '-u', 'authority.pub', '-c', 'authority.ctx', '-n', 'authority.name');
      await t('tpm2_flushcontext', '-t');
      await t('tpm2_startauthsession', '-S', 'trial.ctx');
      await t('tpm2_policyauthorize', '-S', 'trial.ctx', '-L', 'authorized.policy', '-i', 'approved.policy', '-n', 'authority.name');
      await t('tpm2_flushcontext', 'trial.ctx');
    });
    expect(hex(await readFile(join(dir, 'authority.name')))).to.equal(hex(authorityName(a.point)));
    expect(hex(await readFile(join(dir, 'authorized.policy')))).to.equal(hex(computePolicyAuthorize(authorityName(a.point))));
  });

  it('one seal survives a boot-chain change: the newly signed policy unseals, the old one and a forged one do not', async function () {
    const a = authority();
    const sealed = await rig.tpm.sealToPcrs(SECRET, SEL, computePolicyAuthorize(authorityName(a.point)));
    const unsealWith = (signed: SignedPcrPolicy) => rig.tpm.withSecureScope({ kind: 'password' }, undefined, (scope) => rig.tpm.unsealAuthorizedInScope(scope, sealed, SEL, signed));
    const before = signPolicy(a, (await rig.tpm.pcrRead(SEL)).values);
    expect(hex(await unsealWith(before))).to.equal(hex(SECRET));

    // a boot-chain update changes PCR 4: the old signed policy no longer matches the session
    await rig.tpm.pcrExtend(4, [{ hash: 'sha256', digest: SECRET }]);
    expect(((await expectCodeAsync(() => unsealWith(before), 'TPM_ERROR')) as TpmResponseError).rcName).to.equal('TPM_RC_VALUE');
    const after = signPolicy(a, (await rig.tpm.pcrRead(SEL)).values);
    expect(hex(await unsealWith(after))).to.equal(hex(SECRET));

    // a policy signed by anyone else is refused by VerifySignature, whatever it approves
    const forged = signPolicy(authority(), (await rig.tpm.pcrRead(SEL)).values);
    expect(((await expectCodeAsync(() => unsealWith({ ...forged, authority: a.point }), 'TPM_ERROR')) as TpmResponseError).rcName).to.equal('TPM_RC_SIGNATURE');
    // and plain PolicyPCR cannot open it: its policy is the authority's, not a PCR digest
    expect(((await expectCodeAsync(() => rig.tpm.unsealWithPcrs(sealed, SEL), 'TPM_ERROR')) as TpmResponseError).rcName).to.equal('TPM_RC_POLICY_FAIL');
  });

  it('a revocable signed policy (PolicyNV bit clear in an NV_SetBits index): once its bit is set it is refused, the next generation still opens', async function () {
    const a = authority();
    await rig.tpm.nvDefineSpace({ index: BITS_INDEX, type: 'bits', attributes: ['OWNERWRITE', 'OWNERREAD', 'AUTHREAD', 'NO_DA'], dataSize: 8 });
    await rig.tpm.nvSetBits(BITS_INDEX, 1n, ownerAuth()); // bit 0 set at definition, so the index Name (WRITTEN) never changes again
    const { name: nvName } = await rig.tpm.nvReadPublic(BITS_INDEX);
    const sealed = await rig.tpm.sealToPcrs(SECRET, SEL, computePolicyAuthorize(authorityName(a.point)));
    const unsealWith = (signed: SignedPcrPolicy) => rig.tpm.withSecureScope({ kind: 'password' }, undefined, (scope) => rig.tpm.unsealAuthorizedInScope(scope, sealed, SEL, signed));
    const { values } = await rig.tpm.pcrRead(SEL);
    const gen1 = signPolicy(a, values, { index: BITS_INDEX, bits: 1n << 1n, nvName });
    const gen2 = signPolicy(a, values, { index: BITS_INDEX, bits: 1n << 2n, nvName });
    expect(hex(await unsealWith(gen1))).to.equal(hex(SECRET));

    // tpm2-tools computes the same PolicyPCR + PolicyNV(bc) digest as the one signed
    const dir = rig.swtpm.stateDir;
    await writeFile(join(dir, 'operand.bin'), Buffer.from('0000000000000002', 'hex'));
    await rig.stepAside(async () => {
      const env = { ...process.env, TPM2TOOLS_TCTI: rig.swtpm.tcti };
      const t = (cmd: string, ...args: string[]) => run(cmd, args, { env, cwd: dir });
      await t('tpm2_startauthsession', '-S', 'trial.ctx');
      await t('tpm2_policypcr', '-S', 'trial.ctx', '-l', 'sha256:0,2,4,7');
      await t('tpm2_policynv', '-S', 'trial.ctx', '-i', 'operand.bin', `0x${BITS_INDEX.toString(16)}`, 'bc', '-L', 'nv.policy');
      await t('tpm2_flushcontext', 'trial.ctx');
    });
    expect(hex(await readFile(join(dir, 'nv.policy')))).to.equal(hex(gen1.approvedPolicy));

    // the next boot chain committed: generation 1 is revoked on this TPM, and stays revoked
    await rig.tpm.nvSetBits(BITS_INDEX, 1n << 1n, ownerAuth());
    expect(((await expectCodeAsync(() => unsealWith(gen1), 'TPM_ERROR')) as TpmResponseError).rcName).to.equal('TPM_RC_POLICY');
    expect(hex(await unsealWith(gen2))).to.equal(hex(SECRET));
    await rig.tpm.nvUndefineSpace(BITS_INDEX);
  });
});
