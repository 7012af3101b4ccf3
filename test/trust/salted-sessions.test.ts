import { expect } from 'chai';
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TpmClient } from '../../src/tpm/client.js';
import { TPM_CC } from '../../src/tpm/constants.js';
import { ownerAuth } from '../../src/tpm/nv.js';
import { encodeAnchorSecret } from '../../src/trust/anchor-secret.js';
import { establishTrust } from '../../src/trust/establish.js';
import { DEFAULT_NV_INDICES } from '../../src/trust/nv-layout.js';
import { readPin, writePin } from '../../src/trust/pin-store.js';
import { encodePcrPolicy, pointFromKey, signPcrPolicy } from '../../src/trust/pcr-policy.js';
import { reseal } from '../../src/trust/reseal.js';
import { readSealRecord } from '../../src/trust/seal-record.js';
import { decodeSealedAnchor, encodeSealedAnchor, trustPaths } from '../../src/trust/state-files.js';
import { expectCodeAsync } from '../helpers/expect-code.js';
import { startSwtpm, type Swtpm } from '../helpers/swtpm.js';
import { startTpmProxy, type TpmProxy } from '../helpers/tpm-proxy.js';
import { POLICY_PCRS, provisionFresh } from './tpm-fixture.js';

// Issue 11 C: the anchor secret crosses the TPM bus only encrypted (TPM2_Create with a decrypt session
// at provision, TPM2_Unseal with an encrypt session at start), every pin/floor read and the unseal are
// HMAC-authenticated, and the session salt goes only to the storage key pinned at provisioning.
// A recording, rewriting proxy sits between our client and swtpm.

// Every 8-byte window of `secret` that appears in `bus` (none may).
function leaks(bus: Buffer, secret: Uint8Array): number[] {
  const found: number[] = [];
  for (let i = 0; i + 8 <= secret.length; i++) if (bus.includes(Buffer.from(secret.subarray(i, i + 8)))) found.push(i);
  return found;
}

// Flips one bit of the first response parameter's data (after header, parameterSize and its TPM2B size).
const flipFirstParameter = (handles: number) => (r: Buffer): Buffer => {
  r[10 + 4 * handles + 4 + 2] ^= 0x01;
  return r;
};

describe('salted, encrypted, HMAC-checked TPM sessions against swtpm through a recording proxy', function () {
  let swtpm: Swtpm;
  let proxy: TpmProxy;
  let tpm: TpmClient;
  before(async () => {
    swtpm = await startSwtpm();
    proxy = await startTpmProxy(swtpm.address);
    tpm = await TpmClient.open({ swtpm: proxy.address });
  });
  afterEach(() => proxy.tamper(undefined));
  after(async () => {
    await tpm?.close();
    await proxy?.close();
    await swtpm?.stop();
  });

  it('provision and unseal: neither the report seed nor the sealed secret crosses the bus in the clear', async () => {
    const before = proxy.captured().length;
    const p = await provisionFresh(tpm);
    const trust = await establishTrust({ tpm, stateDir: p.stateDir, startMeasurementLog: false });
    const bus = proxy.captured().subarray(before);
    const secret = encodeAnchorSecret({ initialRootDigest: trust.initialRootDigest, reportSeed: trust.reportSeed });
    expect(bus.length).to.be.greaterThan(2000);
    expect(leaks(bus, trust.reportSeed)).to.deep.equal([]);
    expect(leaks(bus, secret.subarray(32))).to.deep.equal([]);
    // the pin and the sealed file both name the salt key, and the same one
    const pin = await readPin(tpm, DEFAULT_NV_INDICES.pin, ownerAuth());
    const file = decodeSealedAnchor(await readFile(trustPaths(p.stateDir).sealedAnchor, 'utf8'));
    expect(pin.saltKeyName?.length).to.equal(34);
    expect(Buffer.from(file.saltKeyName ?? []).equals(Buffer.from(pin.saltKeyName ?? []))).to.be.true;
  });

  it('control: an Unseal without the salted session does show the seed to the proxy', async () => {
    const p = await provisionFresh(tpm);
    const trust = await establishTrust({ tpm, stateDir: p.stateDir, startMeasurementLog: false });
    const blob = decodeSealedAnchor(await readFile(trustPaths(p.stateDir).sealedAnchor, 'utf8'));
    const before = proxy.captured().length;
    const primary = await tpm.createStoragePrimary();
    await tpm.withFlush(primary.handle, async () => {
      const item = await tpm.load(primary.handle, blob);
      await tpm.withFlush(item.handle, () =>
        tpm.withSession('policy', async (s) => {
          await tpm.policyPcr(s, POLICY_PCRS);
          return tpm.unseal(item, { kind: 'policy', handle: s });
        }),
      );
    });
    expect(leaks(proxy.captured().subarray(before), trust.reportSeed)).to.not.deep.equal([]);
  });

  it('a tampered Unseal response is refused (TPM_RESPONSE_FORGED), and so are tampered pin and floor reads', async () => {
    const p = await provisionFresh(tpm);
    proxy.tamper(TPM_CC.Unseal, flipFirstParameter(0));
    await expectCodeAsync(() => establishTrust({ tpm, stateDir: p.stateDir, startMeasurementLog: false }), 'TPM_RESPONSE_FORGED');
    proxy.tamper(TPM_CC.NV_Read, flipFirstParameter(0));
    await expectCodeAsync(() => establishTrust({ tpm, stateDir: p.stateDir, startMeasurementLog: false }), 'TPM_RESPONSE_FORGED');
    proxy.tamper(undefined);
    const trust = await establishTrust({ tpm, stateDir: p.stateDir, startMeasurementLog: false });
    proxy.tamper(TPM_CC.NV_Read, flipFirstParameter(0));
    await expectCodeAsync(() => trust.readFloors(), 'TPM_RESPONSE_FORGED');
  });

  it('a storage key substituted on the bus is refused before any salt is encrypted to it (ANCHOR_MISMATCH)', async () => {
    const p = await provisionFresh(tpm);
    const sent: number[] = [];
    // the last byte of outPublic is the key's unique.y: an interposer's own key differs there
    proxy.tamper(TPM_CC.CreatePrimary, (r) => {
      const pubSize = r.readUInt16BE(18);
      r[20 + pubSize - 1] ^= 0x01;
      sent.push(pubSize);
      return r;
    });
    const before = proxy.captured().length;
    await expectCodeAsync(() => establishTrust({ tpm, stateDir: p.stateDir, startMeasurementLog: false }), 'ANCHOR_MISMATCH');
    expect(sent.length).to.equal(1);
    // no StartAuthSession (0x176) went out after the substituted key
    const cmds: number[] = [];
    const bus = proxy.captured().subarray(before);
    for (let at = 0; at + 10 <= bus.length; at += bus.readUInt32BE(at + 2)) cmds.push(bus.readUInt32BE(at + 6));
    expect(cmds).to.not.include(TPM_CC.StartAuthSession);
  });

  it('devices provisioned before salted sessions (version-2 pin, no saltKeyName) still start; a v3 device whose file lost it is refused', async () => {
    const p = await provisionFresh(tpm);
    const paths = trustPaths(p.stateDir);
    const file = decodeSealedAnchor(await readFile(paths.sealedAnchor, 'utf8'));
    // the file without the salt key name, as releases before it wrote: a v3 pin refuses the downgrade
    await writeFile(paths.sealedAnchor, encodeSealedAnchor({ public: file.public, private: file.private }));
    await expectCodeAsync(() => establishTrust({ tpm, stateDir: p.stateDir, startMeasurementLog: false }), 'ANCHOR_MISMATCH');
    // the pin as releases before it wrote (version 2): the device starts, salted to the unpinned primary
    const v2 = { ...(await readPin(tpm, DEFAULT_NV_INDICES.pin, ownerAuth())), saltKeyName: undefined };
    await tpm.nvUndefineSpace(DEFAULT_NV_INDICES.pin);
    await writePin(tpm, DEFAULT_NV_INDICES.pin, v2);
    expect((await readPin(tpm, DEFAULT_NV_INDICES.pin)).saltKeyName).to.equal(undefined);
    const before = proxy.captured().length;
    const trust = await establishTrust({ tpm, stateDir: p.stateDir, startMeasurementLog: false });
    expect(trust.identity.deviceId).to.equal(p.identity.deviceId);
    expect(leaks(proxy.captured().subarray(before), trust.reportSeed)).to.deep.equal([]);
  });

  it('reseal of a version-2-pin device to an authority: the secret never crosses the bus in the clear, and the device gets a pinned salt key', async () => {
    const p = await provisionFresh(tpm);
    const v2 = { ...(await readPin(tpm, DEFAULT_NV_INDICES.pin, ownerAuth())), saltKeyName: undefined };
    await tpm.nvUndefineSpace(DEFAULT_NV_INDICES.pin);
    await writePin(tpm, DEFAULT_NV_INDICES.pin, v2);
    const authority = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    await mkdir(trustPaths(p.stateDir).pcrPolicies, { recursive: true });
    await writeFile(join(trustPaths(p.stateDir).pcrPolicies, '1.json'), encodePcrPolicy(signPcrPolicy({ generation: 1, pcrs: POLICY_PCRS, values: (await tpm.pcrRead(POLICY_PCRS)).values }, authority)));

    const before = proxy.captured().length;
    expect(await reseal({ tpm, stateDir: p.stateDir, pcrAuthority: pointFromKey(authority) })).to.include({ status: 'resealed', generation: 1 });
    const trust = await establishTrust({ tpm, stateDir: p.stateDir, startMeasurementLog: false });
    const bus = proxy.captured().subarray(before);
    const secret = encodeAnchorSecret({ initialRootDigest: trust.initialRootDigest, reportSeed: trust.reportSeed });
    const commands = new Set<number>();
    for (let at = 0; at + 10 <= bus.length; at += bus.readUInt32BE(at + 2)) commands.add(bus.readUInt32BE(at + 6));
    expect([TPM_CC.Create, TPM_CC.Unseal].every((cc) => commands.has(cc)), 'the reseal created and unsealed through the proxy').to.equal(true);
    expect(leaks(bus, trust.reportSeed)).to.deep.equal([]);
    expect(leaks(bus, secret.subarray(32))).to.deep.equal([]);
    expect(trust.identity.deviceId).to.equal(p.identity.deviceId);
    // the version-2 pin named no salt key; the reseal record now pins the one the new blob was sealed under
    const record = await readSealRecord(tpm, ownerAuth());
    const file = decodeSealedAnchor(await readFile(trustPaths(p.stateDir).sealedAnchor, 'utf8'));
    expect(record && Buffer.from(record.saltKeyName).equals(Buffer.from(file.saltKeyName ?? []))).to.equal(true);
    expect(trust.pin.saltKeyName && Buffer.from(trust.pin.saltKeyName).equals(Buffer.from(record?.saltKeyName ?? []))).to.equal(true);
  });
});
