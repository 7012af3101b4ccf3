import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { useSwtpmClient } from '../helpers/swtpm-client.js';
import { expectCodeAsync } from '../helpers/expect-code.js';
import { TPM_HT } from '../../src/tpm/constants.js';
import { sealedAuthPolicy } from '../../src/tpm/object.js';
import { computePolicyPcr } from '../../src/tpm/policy.js';
import type { PcrSelection } from '../../src/tpm/pcr.js';
import type { TpmResponseError } from '../../src/tpm/rc.js';

const run = promisify(execFile);
const hex = (b: Uint8Array | undefined): string => Buffer.from(b ?? []).toString('hex');
const SEL: PcrSelection = { hash: 'sha256', pcrs: [0, 2, 23] };
const SECRET = new Uint8Array(createHash('sha256').update('anchor').digest());

describe('tpm sealing to a PCR policy (swtpm)', function () {
  const rig = useSwtpmClient();
  // tpm2-tools as an independent oracle; swtpm serves one client, so ours steps aside meanwhile
  async function tpm2tools(...commands: string[][]): Promise<string> {
    return rig.stepAside(async () => {
      let out = '';
      for (const [cmd, ...args] of commands) out += (await run(cmd, args, { env: { ...process.env, TPM2TOOLS_TCTI: rig.swtpm.tcti } })).stdout;
      return out;
    });
  }

  it('the trial-session policy digest equals the one computed in JS and the one tpm2_createpolicy computes', async function () {
    await rig.tpm.pcrExtend(23, [{ hash: 'sha256', digest: SECRET }]);
    const trial = await rig.tpm.trialPolicyPcr(SEL);
    const { values } = await rig.tpm.pcrRead(SEL);
    expect(hex(computePolicyPcr(SEL, values))).to.equal(hex(trial));
    const file = join(rig.swtpm.stateDir, 'policy.bin');
    await tpm2tools(['tpm2_createpolicy', '--policy-pcr', '-l', 'sha256:0,2,23', '-L', file]);
    expect(hex(await readFile(file))).to.equal(hex(trial));
  });

  it('tpm2_pcrread agrees with PCR_Read after an extend', async function () {
    const ours = hex((await rig.tpm.pcrRead({ hash: 'sha256', pcrs: [23] })).values.get(23));
    const theirs = await tpm2tools(['tpm2_pcrread', 'sha256:23']);
    expect(theirs.toLowerCase()).to.include(`23: 0x${ours}`);
    expect(ours).to.not.equal('00'.repeat(32));
  });

  it('seal → unseal round trip; the blob carries the policy it was sealed to and no userWithAuth', async function () {
    const sealed = await rig.tpm.sealToPcrs(SECRET, SEL);
    expect(hex(sealedAuthPolicy(sealed.public))).to.equal(hex(sealed.policyDigest));
    // TPMA_OBJECT at bytes 4..7 of TPMT_PUBLIC: userWithAuth (0x40) must be clear
    expect(new DataView(sealed.public.buffer, sealed.public.byteOffset).getUint32(4) & 0x40).to.equal(0);
    expect(hex(await rig.tpm.unsealWithPcrs(sealed, SEL))).to.equal(hex(SECRET));
  });

  it('a password cannot unseal it: Unseal without the policy session is refused', async function () {
    const sealed = await rig.tpm.sealToPcrs(SECRET, SEL);
    const primary = await rig.tpm.createStoragePrimary();
    try {
      const item = await rig.tpm.load(primary.handle, sealed);
      try {
        const err = (await expectCodeAsync(() => rig.tpm.unseal(item, { kind: 'password' }), 'TPM_ERROR')) as TpmResponseError;
        expect(err.rcName).to.equal('TPM_RC_AUTH_UNAVAILABLE');
      } finally {
        await rig.tpm.flushContext(item.handle);
      }
    } finally {
      await rig.tpm.flushContext(primary.handle);
    }
  });

  it('after extending a policy PCR, unseal is refused with TPM_RC_POLICY_FAIL on session 1; a reboot restores it', async function () {
    const sealed = await rig.tpm.sealToPcrs(SECRET, { hash: 'sha256', pcrs: [0, 2, 16] });
    await rig.tpm.pcrExtend(16, [{ hash: 'sha256', digest: SECRET }]);
    const err = (await expectCodeAsync(() => rig.tpm.unsealWithPcrs(sealed, { hash: 'sha256', pcrs: [0, 2, 16] }), 'TPM_ERROR')) as TpmResponseError;
    expect(err.rcName).to.equal('TPM_RC_POLICY_FAIL');
    expect(err.where).to.deep.equal({ kind: 'session', index: 1 });
    expect(err.message).to.include('TPM_RC_POLICY_FAIL on session 1').and.include('0x99d');
    // the refused path flushed the primary, the sealed object and the session too
    expect(await rig.tpm.getHandles(TPM_HT.TRANSIENT)).to.deep.equal([]);
    expect(await rig.tpm.getHandles(TPM_HT.POLICY_SESSION)).to.deep.equal([]);
    await rig.stepAside(() => rig.swtpm.restart());
    expect((await rig.tpm.pcrRead({ hash: 'sha256', pcrs: [16] })).values.get(16)).to.deep.equal(new Uint8Array(32));
    expect(hex(await rig.tpm.unsealWithPcrs(sealed, { hash: 'sha256', pcrs: [0, 2, 16] }))).to.equal(hex(SECRET));
  });

  it('seals to a predicted future PCR state (computePolicyPcr), unsealable only once the PCRs reach it', async function () {
    const sel: PcrSelection = { hash: 'sha256', pcrs: [23] };
    const now = (await rig.tpm.pcrRead(sel)).values.get(23) ?? new Uint8Array(32);
    const measured = new Uint8Array(createHash('sha256').update('next image').digest());
    const future = new Uint8Array(createHash('sha256').update(now).update(measured).digest());
    const sealed = await rig.tpm.sealToPcrs(SECRET, sel, computePolicyPcr(sel, new Map([[23, future]])));
    const err = (await expectCodeAsync(() => rig.tpm.unsealWithPcrs(sealed, sel), 'TPM_ERROR')) as TpmResponseError;
    expect(err.rcName).to.equal('TPM_RC_POLICY_FAIL');
    await rig.tpm.pcrExtend(23, [{ hash: 'sha256', digest: measured }]);
    expect(hex(await rig.tpm.unsealWithPcrs(sealed, sel))).to.equal(hex(SECRET));
  });

  it('interoperates with tpm2-tools: it unseals our blob, and we unseal a blob it sealed (same primary template)', async function () {
    const sel: PcrSelection = { hash: 'sha256', pcrs: [0, 2] };
    const dir = rig.swtpm.stateDir;
    const tpm2b = (b: Uint8Array): Buffer => Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
    const ours = await rig.tpm.sealToPcrs(new TextEncoder().encode('sealed by edgeseal'), sel);
    await writeFile(join(dir, 'ours.pub'), tpm2b(ours.public));
    await writeFile(join(dir, 'ours.priv'), tpm2b(ours.private));
    await writeFile(join(dir, 'theirs.secret'), 'sealed by tpm2-tools');
    const primary = ['tpm2_createprimary', '-C', 'o', '-G', 'ecc256:aes128cfb', '-a', 'restricted|decrypt|fixedtpm|fixedparent|sensitivedataorigin|userwithauth|noda', '-c', join(dir, 'prim.ctx')];
    // swtpm has no resource manager: tpm2-tools keeps context files, and we flush its transient objects
    const flush = ['tpm2_flushcontext', '-t'];
    const unsealed = await tpm2tools(
      primary,
      flush,
      ['tpm2_load', '-C', join(dir, 'prim.ctx'), '-u', join(dir, 'ours.pub'), '-r', join(dir, 'ours.priv'), '-c', join(dir, 'ours.ctx')],
      flush,
      ['tpm2_unseal', '-c', join(dir, 'ours.ctx'), '-p', 'pcr:sha256:0,2'],
      flush,
      ['tpm2_createpolicy', '--policy-pcr', '-l', 'sha256:0,2', '-L', join(dir, 'theirs.policy')],
      ['tpm2_create', '-C', join(dir, 'prim.ctx'), '-i', join(dir, 'theirs.secret'), '-L', join(dir, 'theirs.policy'), '-a', 'fixedtpm|fixedparent', '-u', join(dir, 'theirs.pub'), '-r', join(dir, 'theirs.priv')],
      flush,
    );
    expect(unsealed).to.include('sealed by edgeseal');
    const strip = (b: Buffer): Uint8Array => new Uint8Array(b.subarray(2, 2 + b.readUInt16BE(0)));
    const theirs = { public: strip(await readFile(join(dir, 'theirs.pub'))), private: strip(await readFile(join(dir, 'theirs.priv'))) };
    expect(new TextDecoder().decode(await rig.tpm.unsealWithPcrs(theirs, sel))).to.equal('sealed by tpm2-tools');
  });

  it('refuses to seal more than 128 bytes (seal hashes and seeds, not files)', async function () {
    await expectCodeAsync(() => rig.tpm.sealToPcrs(new Uint8Array(129), SEL), 'OVERSIZED');
  });
});
