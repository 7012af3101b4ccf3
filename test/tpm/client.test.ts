import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { useSwtpmClient } from '../helpers/swtpm-client.js';
import { expectCodeAsync } from '../helpers/expect-code.js';
import { TPM_HT } from '../../src/tpm/constants.js';
import { isTpmRc, type TpmResponseError } from '../../src/tpm/rc.js';

const sha256 = (...parts: Uint8Array[]): Uint8Array => {
  const h = createHash('sha256');
  parts.forEach((p) => h.update(p));
  return new Uint8Array(h.digest());
};

describe('tpm/client against swtpm', function () {
  const rig = useSwtpmClient();

  it('Startup: swtpm was started with startup-clear, so TPM_RC_INITIALIZE is reported as already started', async function () {
    expect(await rig.tpm.startup()).to.deep.equal({ alreadyStarted: true });
  });

  it('GetRandom returns the bytes asked for, more than one digest at a time, and differs per call', async function () {
    const a = await rig.tpm.getRandom(100);
    const b = await rig.tpm.getRandom(100);
    expect(a.length).to.equal(100);
    expect(Buffer.from(a).equals(Buffer.from(b))).to.be.false;
  });

  it('GetCapability: manufacturer IBM (libtpms), TPM 2.0, sha256/aes/ecc implemented, a 24-PCR sha256 bank', async function () {
    const id = await rig.tpm.getIdentity();
    expect(id.manufacturer).to.equal('IBM');
    expect(id.revision).to.match(/^1\.\d\d$/);
    const algs = (await rig.tpm.getAlgorithms()).map((a) => a.name);
    expect(algs).to.include.members(['sha256', 'aes', 'ecc', 'keyedhash', 'cfb']);
    const banks = await rig.tpm.getPcrBanks();
    expect(banks.find((b) => b.hash === 'sha256')?.pcrs).to.have.length(24);
  });

  it('PCR_Read reads more than 8 PCRs (several TPM round trips) and PCR 23 starts at zero', async function () {
    const all = Array.from({ length: 24 }, (_, i) => i);
    const { values } = await rig.tpm.pcrRead({ hash: 'sha256', pcrs: all });
    expect([...values.keys()].sort((a, b) => a - b)).to.deep.equal(all);
    expect(Buffer.from(values.get(23) ?? []).equals(Buffer.alloc(32))).to.be.true;
  });

  it('PCR_Extend: the new value equals sha256(old || digest) computed in JS', async function () {
    const before = await rig.tpm.pcrRead({ hash: 'sha256', pcrs: [16] });
    const digest = sha256(Buffer.from('image'));
    await rig.tpm.pcrExtend(16, [{ hash: 'sha256', digest }]);
    const after = await rig.tpm.pcrRead({ hash: 'sha256', pcrs: [16] });
    expect(Buffer.from(after.values.get(16) ?? []).toString('hex')).to.equal(Buffer.from(sha256(before.values.get(16) ?? new Uint8Array(), digest)).toString('hex'));
  });

  it('FlushContext: a flushed session handle is gone (TPM_RC_HANDLE / REFERENCE on reuse)', async function () {
    const s = await rig.tpm.startAuthSession('trial');
    expect(s >>> 24).to.equal(TPM_HT.POLICY_SESSION);
    await rig.tpm.flushContext(s);
    const err = (await expectCodeAsync(() => rig.tpm.policyGetDigest(s), 'TPM_ERROR')) as TpmResponseError;
    expect(err.rcName).to.match(/^TPM_RC_(HANDLE|REFERENCE_H0)$/);
  });

  it('many seal/unseal cycles leak no transient handle (swtpm would fail with OBJECT_MEMORY)', async function () {
    const sel = { hash: 'sha256' as const, pcrs: [0] };
    const sealed = await rig.tpm.sealToPcrs(Uint8Array.of(1, 2, 3), sel);
    for (let i = 0; i < 5; i++) expect([...(await rig.tpm.unsealWithPcrs(sealed, sel))]).to.deep.equal([1, 2, 3]);
    expect(await rig.tpm.getHandles(TPM_HT.TRANSIENT)).to.deep.equal([]);
    expect(await rig.tpm.getHandles(TPM_HT.POLICY_SESSION)).to.deep.equal([]);
  });

  it('decodes a refused command into a readable error that keeps the raw code', async function () {
    const err = await expectCodeAsync(() => rig.tpm.nvReadPublic(0x01c0ffee), 'TPM_ERROR');
    expect(isTpmRc(err, 'TPM_RC_HANDLE')).to.be.true;
    expect(err.message).to.include('TPM2_NV_ReadPublic').and.include('TPM_RC_HANDLE on handle 1').and.include('0x18b');
    expect((err as TpmResponseError).rc).to.equal(0x18b);
  });
});
