import { expect } from 'chai';
import { readFile, rm, writeFile } from 'node:fs/promises';
import nacl from 'tweetnacl';
import { ownerAuth } from '../../src/tpm/nv.js';
import { encodeAnchorSecret, sha256 } from '../../src/trust/anchor-secret.js';
import { establishTrust } from '../../src/trust/establish.js';
import { DEFAULT_NV_INDICES, PIN_DEFINITION } from '../../src/trust/nv-layout.js';
import { NV_PIN_LENGTH } from '../../src/trust/nv-pin.js';
import { provision } from '../../src/trust/provision.js';
import { decodeDeviceIdentity, decodeSealedAnchor, encodeDeviceIdentity, encodeSealedAnchor, trustPaths } from '../../src/trust/state-files.js';
import { expectCodeAsync } from '../helpers/expect-code.js';
import { NOW, POLICY_PCRS, provisionFresh, rootJson, startTrustFixture, type TrustFixture } from './tpm-fixture.js';

describe('trust anchors against swtpm (P1 sealed, P2 pinned)', function () {
  let fx: TrustFixture;
  before(async () => (fx = await startTrustFixture()));
  after(async () => fx?.close());
  const establish = (stateDir: string) => establishTrust({ tpm: fx.tpm, stateDir });

  it('provision → establishTrust unseals the seed, matches identity and root, floors start at 0', async () => {
    const p = await provisionFresh(fx.tpm);
    expect(p.status).to.equal('provisioned');
    const trust = await establish(p.stateDir);
    expect(Buffer.from(trust.initialRootDigest).equals(Buffer.from(sha256(rootJson(1))))).to.be.true;
    expect(Buffer.from(trust.initialRoot).equals(Buffer.from(rootJson(1)))).to.be.true;
    const pub = Buffer.from(nacl.sign.keyPair.fromSeed(trust.reportSeed).publicKey).toString('hex');
    expect(pub).to.equal(p.identity.reportPublicKey);
    expect(trust.identity).to.deep.equal(p.identity);
    expect(trust.floors).to.deep.equal({ rootVersion: 0, securityVersion: 0, revocationVersion: 0, targetsVersion: 0 });
    // the sealed blob is the only copy of the seed on disk, and it is not the seed in clear
    const onDisk = await readFile(trustPaths(p.stateDir).sealedAnchor);
    expect(onDisk.includes(Buffer.from(trust.reportSeed))).to.be.false;
  });

  it('is idempotent for the same root and refuses other anchors without --force (ANCHOR_EXISTS)', async () => {
    const p = await provisionFresh(fx.tpm);
    const again = await provision({ tpm: fx.tpm, stateDir: p.stateDir, rootBytes: rootJson(1), hardwareId: 'board-a', now: NOW, pcrs: POLICY_PCRS });
    expect(again.status).to.equal('already-provisioned');
    expect(again.identity.deviceId).to.equal(p.identity.deviceId);
    const other = { tpm: fx.tpm, stateDir: p.stateDir, rootBytes: rootJson(2, 'other'), hardwareId: 'board-a', now: NOW, pcrs: POLICY_PCRS };
    await expectCodeAsync(() => provision(other), 'ANCHOR_EXISTS');
    await expectCodeAsync(() => provision({ ...other, rootBytes: rootJson(1), hardwareId: 'board-b' }), 'ANCHOR_EXISTS');
    const forced = await provision({ ...other, force: true });
    expect(forced.identity.reportPublicKey).not.to.equal(p.identity.reportPublicKey);
    expect(Buffer.from((await establish(p.stateDir)).initialRootDigest).equals(Buffer.from(sha256(rootJson(2, 'other'))))).to.be.true;
  });

  it('refuses a foreign NV index at a counter handle without --force, and replaces it with --force', async () => {
    const p = await provisionFresh(fx.tpm);
    const { pin, rootVersion } = DEFAULT_NV_INDICES;
    await fx.tpm.nvUndefineSpace(pin);
    await fx.tpm.nvUndefineSpace(rootVersion);
    await fx.tpm.nvDefineSpace({ index: rootVersion, type: 'ordinary', attributes: ['OWNERWRITE', 'OWNERREAD'], dataSize: 8 });
    // a state dir without anchor files: only the foreign counter stands in the way
    await rm(trustPaths(p.stateDir).dir, { recursive: true });
    const opts = { tpm: fx.tpm, stateDir: p.stateDir, rootBytes: rootJson(1), hardwareId: 'board-a', now: NOW, pcrs: POLICY_PCRS };
    const err = await expectCodeAsync(() => provision(opts), 'ANCHOR_EXISTS');
    expect(err.message).to.contain('0x018e5e01');
    expect((await provision({ ...opts, force: true })).status).to.equal('provisioned');
    expect((await establish(p.stateDir)).floors.rootVersion).to.equal(0);
  });

  it('refuses a non-root or unparseable root.json before touching the TPM', async () => {
    const base = { tpm: fx.tpm, stateDir: '/nonexistent', hardwareId: 'board-a', now: NOW, force: true };
    await expectCodeAsync(() => provision({ ...base, rootBytes: new TextEncoder().encode('{"signed":{"_type":"targets","version":1}}') }), 'MALFORMED_METADATA');
    await expectCodeAsync(() => provision({ ...base, rootBytes: Uint8Array.of(0xff, 0xfe) }), 'MALFORMED_METADATA');
    await expectCodeAsync(() => provision({ ...base, rootBytes: rootJson(1), hardwareId: 'a/b' }), 'USAGE');
  });

  it('PCR state changed → ANCHOR_UNAVAILABLE; a reboot restores the boot state and unseal works again', async () => {
    const p = await provisionFresh(fx.tpm);
    await fx.tpm.pcrExtend(7, [{ hash: 'sha256', digest: sha256(new TextEncoder().encode('evil bootloader')) }]);
    await expectCodeAsync(() => establish(p.stateDir), 'ANCHOR_UNAVAILABLE');
    await fx.reboot();
    const trust = await establish(p.stateDir);
    expect(trust.identity.deviceId).to.equal(p.identity.deviceId);
  });

  it('a replaced root.json → ANCHOR_MISMATCH', async () => {
    const p = await provisionFresh(fx.tpm);
    await writeFile(trustPaths(p.stateDir).initialRoot, rootJson(1, 'attacker'));
    await expectCodeAsync(() => establish(p.stateDir), 'ANCHOR_MISMATCH');
  });

  it('a blob freshly sealed on the same TPM by an attacker (own root, own seed) → ANCHOR_MISMATCH', async () => {
    const p = await provisionFresh(fx.tpm);
    const paths = trustPaths(p.stateDir);
    const evilRoot = rootJson(1, 'attacker');
    const seed = nacl.randomBytes(32);
    for (const rootDigest of [sha256(evilRoot), sha256(rootJson(1))]) {
      const sealed = await fx.tpm.sealToPcrs(encodeAnchorSecret({ initialRootDigest: rootDigest, reportSeed: seed }), POLICY_PCRS);
      await writeFile(paths.sealedAnchor, encodeSealedAnchor(sealed));
      await expectCodeAsync(() => establish(p.stateDir), 'ANCHOR_MISMATCH');
    }
    await writeFile(paths.initialRoot, evilRoot);
    await expectCodeAsync(() => establish(p.stateDir), 'ANCHOR_MISMATCH');
  });

  it('the pinned public area with another private part (or junk) → ANCHOR_MISMATCH, not a crash', async () => {
    const p = await provisionFresh(fx.tpm);
    const path = trustPaths(p.stateDir).sealedAnchor;
    const genuine = decodeSealedAnchor(await readFile(path, 'utf8'));
    const other = await fx.tpm.sealToPcrs(encodeAnchorSecret({ initialRootDigest: sha256(rootJson(1)), reportSeed: nacl.randomBytes(32) }), POLICY_PCRS);
    await writeFile(path, encodeSealedAnchor({ public: genuine.public, private: other.private }));
    await expectCodeAsync(() => establish(p.stateDir), 'ANCHOR_MISMATCH');
    await writeFile(path, encodeSealedAnchor({ public: genuine.public, private: Uint8Array.of(1, 2, 3) }));
    await expectCodeAsync(() => establish(p.stateDir), 'ANCHOR_MISMATCH');
    await writeFile(path, '{"format":1,"public":"AA==","private":"AA=="}');
    await expectCodeAsync(() => establish(p.stateDir), 'ANCHOR_MISMATCH');
  });

  it('a hardware id or device key edited in device.json → ANCHOR_MISMATCH', async () => {
    const p = await provisionFresh(fx.tpm);
    const path = trustPaths(p.stateDir).device;
    const id = decodeDeviceIdentity(await readFile(path, 'utf8'));
    await writeFile(path, encodeDeviceIdentity({ ...id, hardwareId: 'board-b' }));
    await expectCodeAsync(() => establish(p.stateDir), 'ANCHOR_MISMATCH');
    await writeFile(path, encodeDeviceIdentity({ ...id, reportPublicKey: 'ab'.repeat(32) }));
    await expectCodeAsync(() => establish(p.stateDir), 'ANCHOR_MISMATCH');
  });

  it('a missing sealed blob → ANCHOR_UNAVAILABLE (never an unsealed fallback)', async () => {
    const p = await provisionFresh(fx.tpm);
    await rm(trustPaths(p.stateDir).sealedAnchor);
    await expectCodeAsync(() => establish(p.stateDir), 'ANCHOR_UNAVAILABLE');
  });

  it('a deleted NV pin → NV_PIN_INVALID', async () => {
    const p = await provisionFresh(fx.tpm);
    await fx.tpm.nvUndefineSpace(DEFAULT_NV_INDICES.pin);
    await expectCodeAsync(() => establish(p.stateDir), 'NV_PIN_INVALID');
  });

  it('an NV pin with the right bytes but wrong attributes (not write-locked, rewritable) → NV_PIN_INVALID', async () => {
    const p = await provisionFresh(fx.tpm);
    const index = DEFAULT_NV_INDICES.pin;
    const bytes = await fx.tpm.nvRead(index, NV_PIN_LENGTH, 0, ownerAuth());
    await fx.tpm.nvUndefineSpace(index);
    await fx.tpm.nvDefineSpace({ index, type: 'ordinary', attributes: ['OWNERWRITE', 'OWNERREAD', 'NO_DA'], dataSize: NV_PIN_LENGTH });
    await fx.tpm.nvWrite(index, bytes, 0, ownerAuth());
    await expectCodeAsync(() => establish(p.stateDir), 'NV_PIN_INVALID');
    // same attributes as provisioning but never write-locked: still not a pin
    await fx.tpm.nvUndefineSpace(index);
    await fx.tpm.nvDefineSpace({ index, ...PIN_DEFINITION, dataSize: NV_PIN_LENGTH });
    await fx.tpm.nvWrite(index, bytes, 0, ownerAuth());
    await expectCodeAsync(() => establish(p.stateDir), 'NV_PIN_INVALID');
    await fx.tpm.nvWriteLock(index, ownerAuth());
    expect((await establish(p.stateDir)).identity.deviceId).to.equal(p.identity.deviceId);
  });
});
