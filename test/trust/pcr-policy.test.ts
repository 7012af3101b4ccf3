import { expect } from 'chai';
import { createPrivateKey } from 'node:crypto';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT, type CliIo } from '../../src/cli/command.js';
import { dispatch } from '../../src/cli/dispatch.js';
import { authorityName, computePolicyAuthorize } from '../../src/tpm/authorize.js';
import { ownerAuth } from '../../src/tpm/nv.js';
import { REVOCATION_DEFINITION, REVOCATION_INDEX, decodePcrPolicy, encodePcrPolicy, generationBit, pointFromKey, revocationIndexName, signPcrPolicy } from '../../src/trust/pcr-policy.js';
import { parsePcrSelection } from '../../src/trust/pcr-selection.js';
import { establishTrust } from '../../src/trust/establish.js';
import { trustPaths } from '../../src/trust/state-files.js';
import { expectCode, expectCodeAsync } from '../helpers/expect-code.js';
import { useSwtpmClient } from '../helpers/swtpm-client.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const SEL = parsePcrSelection('sha256:0,2,4,7');

function capture(): CliIo & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, out: (l) => lines.push(l), err: (l) => errors.push(l), isTTY: false };
}

describe('signed PCR policy documents and `edgeseal repo pcr-policy` (issue 11 B)', function () {
  const rig = useSwtpmClient();

  it('keygen + sign write a policy the device accepts; edited values or another signer are SIGNATURE_INVALID', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'edgeseal-pcr-policy-'));
    const io = capture();
    expect(await dispatch(['repo', 'pcr-policy', 'keygen', '--out', join(dir, 'authority.pem')], io)).to.equal(EXIT.OK);
    const { values } = await rig.tpm.pcrRead(SEL);
    await writeFile(join(dir, 'values.json'), JSON.stringify(Object.fromEntries([...values].map(([p, v]) => [String(p), hex(v)]))));
    const args = ['repo', 'pcr-policy', 'sign', '--key', join(dir, 'authority.pem'), '--generation', '3', '--values', join(dir, 'values.json'), '--out', join(dir, 'policy.json')];
    expect(await dispatch(args, capture())).to.equal(EXIT.OK);
    const text = await readFile(join(dir, 'policy.json'), 'utf8');
    const doc = decodePcrPolicy(text);
    expect(doc.generation).to.equal(3);
    expect(hex(authorityName(doc.authority))).to.equal(hex(authorityName(pointFromKey(createPrivateKey(await readFile(join(dir, 'authority.pem'), 'utf8'))))));

    const o = JSON.parse(text) as { values: Record<string, string>; generation: number };
    expectCode(() => decodePcrPolicy(JSON.stringify({ ...o, values: { ...o.values, 4: 'ff'.repeat(32) } })), 'SIGNATURE_INVALID');
    expectCode(() => decodePcrPolicy(JSON.stringify({ ...o, generation: 4 })), 'SIGNATURE_INVALID');
    // signed by another key, claiming our authority
    const otherDir = await mkdtemp(join(tmpdir(), 'edgeseal-pcr-policy-other-'));
    await dispatch(['repo', 'pcr-policy', 'keygen', '--out', join(otherDir, 'k.pem')], capture());
    const foreign = JSON.parse(encodePcrPolicy(signPcrPolicy({ generation: 3, pcrs: SEL, values }, createPrivateKey(await readFile(join(otherDir, 'k.pem'), 'utf8'))))) as object;
    expectCode(() => decodePcrPolicy(JSON.stringify({ ...foreign, authority: (JSON.parse(text) as { authority: unknown }).authority })), 'SIGNATURE_INVALID');
    expect(await dispatch(['repo', 'pcr-policy', 'sign', '--key', join(dir, 'authority.pem'), '--generation', '64', '--values', join(dir, 'values.json'), '--out', join(dir, 'x.json')], capture())).to.equal(EXIT.USAGE);
  });

  it('the revocation index Name the publisher computes is the one the TPM reports; a signed document unseals, its revoked generation does not', async () => {
    await rig.tpm.nvDefineSpace({ index: REVOCATION_INDEX, ...REVOCATION_DEFINITION, dataSize: 8 });
    await rig.tpm.nvSetBits(REVOCATION_INDEX, 1n, ownerAuth());
    expect(hex((await rig.tpm.nvReadPublic(REVOCATION_INDEX)).name)).to.equal(hex(revocationIndexName()));

    const dir = await mkdtemp(join(tmpdir(), 'edgeseal-pcr-policy-'));
    await dispatch(['repo', 'pcr-policy', 'keygen', '--out', join(dir, 'a.pem')], capture());
    const key = createPrivateKey(await readFile(join(dir, 'a.pem'), 'utf8'));
    const secret = new Uint8Array(32).fill(7);
    const sealed = await rig.tpm.sealToPcrs(secret, SEL, computePolicyAuthorize(authorityName(pointFromKey(key))));
    const { values } = await rig.tpm.pcrRead(SEL);
    const unsealWith = (generation: number) => {
      const doc = decodePcrPolicy(encodePcrPolicy(signPcrPolicy({ generation, pcrs: SEL, values }, key)));
      const signed = { ...doc, policyRef: new Uint8Array(0), revocation: { index: REVOCATION_INDEX, bits: generationBit(generation) } };
      return rig.tpm.withSecureScope({ kind: 'password' }, undefined, (scope) => rig.tpm.unsealAuthorizedInScope(scope, sealed, SEL, signed));
    };
    expect(hex(await unsealWith(1))).to.equal(hex(secret));
    await rig.tpm.nvSetBits(REVOCATION_INDEX, generationBit(1), ownerAuth());
    const err = await unsealWith(1).then(() => undefined, (e: unknown) => e as { rcName?: string });
    expect(err?.rcName).to.equal('TPM_RC_POLICY');
    expect(hex(await unsealWith(2))).to.equal(hex(secret));
  });

  it('the documented flow: keygen, provision --pcr-authority KEY.pem.pub, sign the measured values into pcr-policies/, the anchors open', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'edgeseal-pcr-policy-flow-'));
    const stateDir = join(dir, 'state');
    await writeFile(join(dir, 'root.json'), JSON.stringify({ signatures: [], signed: { _type: 'root', version: 1 } }));
    expect(await dispatch(['repo', 'pcr-policy', 'keygen', '--out', join(dir, 'authority.pem')], capture())).to.equal(EXIT.OK);
    const provisioned = await rig.stepAside(() =>
      dispatch(['provision', '--root', join(dir, 'root.json'), '--hardware-id', 'board-a', '--pcr-authority', join(dir, 'authority.pem.pub'), '--tpm-swtpm', rig.swtpm.address, '--state-dir', stateDir, '--force'], capture()),
    );
    expect(provisioned).to.equal(EXIT.OK);
    await expectCodeAsync(() => establishTrust({ tpm: rig.tpm, stateDir, startMeasurementLog: false }), 'ANCHOR_UNAVAILABLE');
    const { values } = await rig.tpm.pcrRead(SEL);
    await writeFile(join(dir, 'measured.json'), JSON.stringify(Object.fromEntries([...values].map(([p, v]) => [String(p), hex(v)]))));
    await mkdir(trustPaths(stateDir).pcrPolicies, { recursive: true });
    const signArgs = ['repo', 'pcr-policy', 'sign', '--key', join(dir, 'authority.pem'), '--generation', '1', '--values', join(dir, 'measured.json')];
    expect(await dispatch([...signArgs, '--out', join(trustPaths(stateDir).pcrPolicies, 'policy-1.json')], capture())).to.equal(EXIT.OK);
    expect((await establishTrust({ tpm: rig.tpm, stateDir, startMeasurementLog: false })).pcrPolicyGeneration).to.equal(1);
    expect(await dispatch(['provision', '--root', join(dir, 'root.json'), '--hardware-id', 'board-a', '--pcr-authority', join(dir, 'measured.json'), '--state-dir', stateDir], capture())).to.equal(EXIT.USAGE);
  });
});
