import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TpmClient } from '../../src/tpm/client.js';
import { establishTrust } from '../../src/trust/establish.js';
import { encodePcrPolicy, pointFromKey, signPcrPolicy } from '../../src/trust/pcr-policy.js';
import { provision } from '../../src/trust/provision.js';
import { readSealRecord } from '../../src/trust/seal-record.js';
import { RESEAL_STEPS, reseal, type ResealStep } from '../../src/trust/reseal.js';
import { trustPaths } from '../../src/trust/state-files.js';
import { ownerAuth } from '../../src/tpm/nv.js';
import { EXIT } from '../../src/cli/command.js';
import { expectCodeAsync } from '../helpers/expect-code.js';
import { runCli } from '../helpers/run-cli.js';
import { NOW, POLICY_PCRS, provisionFresh, rootJson, startTrustFixture, type TrustFixture } from './tpm-fixture.js';

const KERNEL = new Uint8Array(32).fill(0x4b);
const CHILD = fileURLToPath(new URL('./reseal-child.js', import.meta.url));

// `edgeseal reseal` against swtpm: a plain PolicyPCR device moves to a PCR-policy authority with the same
// report key and floors, survives a boot-chain change afterwards, and a reseal stopped at any step leaves
// a device that starts; rotating the authority is a reseal while the old one still opens the anchor.
describe('reseal to a PCR-policy authority (swtpm)', function () {
  this.timeout(60_000);
  let fx: TrustFixture;
  const a1 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const a2 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  before(async () => {
    fx = await startTrustFixture();
  });
  after(async () => fx?.close());

  // the publisher signed the PCR values the board shows now as `generation`, and the device holds it
  async function publish(stateDir: string, key: KeyObject, generation: number, file = `${generation}.json`): Promise<void> {
    const dir = trustPaths(stateDir).pcrPolicies;
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, file), encodePcrPolicy(signPcrPolicy({ generation, pcrs: POLICY_PCRS, values: (await fx.tpm.pcrRead(POLICY_PCRS)).values }, key)));
  }
  const start = (stateDir: string) => establishTrust({ tpm: fx.tpm, stateDir, startMeasurementLog: false });

  it('moves a plain PolicyPCR device to the authority: same report key and floors, and the next boot-chain change keeps it', async () => {
    await fx.reboot();
    const p = await provisionFresh(fx.tpm);
    await (await start(p.stateDir)).raiseFloor('securityVersion', 5);
    const sealedBefore = await readFile(trustPaths(p.stateDir).sealedAnchor);
    // no policy by the authority for the PCRs now: refused before anything changes
    await expectCodeAsync(() => reseal({ tpm: fx.tpm, stateDir: p.stateDir, pcrAuthority: pointFromKey(a1) }), 'PCR_POLICY_MISSING');
    expect((await readFile(trustPaths(p.stateDir).sealedAnchor)).equals(sealedBefore)).to.equal(true);
    expect(await readSealRecord(fx.tpm, ownerAuth())).to.equal(undefined);

    await publish(p.stateDir, a1, 1);
    const r = await reseal({ tpm: fx.tpm, stateDir: p.stateDir, pcrAuthority: pointFromKey(a1) });
    expect(r).to.include({ status: 'resealed', deviceId: p.identity.deviceId, generation: 1 });
    expect(r.from).to.match(/^plain PolicyPCR sha256:0,2,4,7/);
    expect(await readdir(trustPaths(p.stateDir).dir)).to.not.include('sealed-anchor.resealed.json');
    const after = await start(p.stateDir);
    expect([after.identity.reportPublicKey, after.pcrPolicyGeneration, after.floors.securityVersion]).to.deep.equal([p.identity.reportPublicKey, 1, 5]);
    expect((await reseal({ tpm: fx.tpm, stateDir: p.stateDir, pcrAuthority: pointFromKey(a1) })).status).to.equal('already-resealed');

    // the boot chain changes: before the reseal this was ANCHOR_UNAVAILABLE for good; now a signed policy opens it
    await fx.tpm.pcrExtend(4, [{ hash: 'sha256', digest: KERNEL }]);
    await expectCodeAsync(() => start(p.stateDir), 'ANCHOR_UNAVAILABLE');
    await publish(p.stateDir, a1, 2);
    const changed = await start(p.stateDir);
    expect([changed.identity.reportPublicKey, changed.pcrPolicyGeneration, changed.floors.securityVersion]).to.deep.equal([p.identity.reportPublicKey, 2, 5]);
  });

  // a reseal in its own process, SIGKILLed right after `killAt`; the suite's client steps aside meanwhile
  async function killedReseal(stateDir: string, killAt: ResealStep): Promise<NodeJS.Signals | null> {
    const authority = pointFromKey(a1);
    const arg = JSON.stringify({ swtpm: fx.swtpm.address, stateDir, authority: { x: Buffer.from(authority.x).toString('hex'), y: Buffer.from(authority.y).toString('hex') }, killAt });
    await fx.tpm.close();
    try {
      return await new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [CHILD, arg], { stdio: 'ignore' });
        child.on('error', reject);
        child.on('close', (_code, signal) => resolve(signal));
      });
    } finally {
      fx.tpm = await TpmClient.open({ swtpm: fx.swtpm.address });
    }
  }

  for (const stop of RESEAL_STEPS) {
    it(`SIGKILLed after step ${stop}: the device still starts with the same key, and reseal run again finishes`, async () => {
      await fx.reboot();
      const p = await provisionFresh(fx.tpm);
      await publish(p.stateDir, a1, 1);
      expect(await killedReseal(p.stateDir, stop)).to.equal('SIGKILL');
      const committed = RESEAL_STEPS.indexOf(stop) >= RESEAL_STEPS.indexOf('recorded');
      const mid = await start(p.stateDir);
      expect([mid.identity.reportPublicKey, mid.pcrPolicyGeneration]).to.deep.equal([p.identity.reportPublicKey, committed ? 1 : undefined]);
      const again = await reseal({ tpm: fx.tpm, stateDir: p.stateDir, pcrAuthority: pointFromKey(a1) });
      expect(again.status).to.equal(committed ? 'already-resealed' : 'resealed');
      expect(await readdir(trustPaths(p.stateDir).dir)).to.not.include('sealed-anchor.resealed.json');
      expect((await start(p.stateDir)).pcrPolicyGeneration).to.equal(1);
    });
  }

  it('rotates the authority: reseal to the new key while the old one opens the anchor; then only the new key’s policies count', async () => {
    await fx.reboot();
    const stateDir = (await provisionFresh(fx.tpm)).stateDir;
    await provision({ tpm: fx.tpm, stateDir, rootBytes: rootJson(1), hardwareId: 'board-a', now: NOW, pcrs: POLICY_PCRS, force: true, pcrAuthority: pointFromKey(a1) });
    await publish(stateDir, a1, 1, 'a1-1.json');
    const before = await start(stateDir);
    await publish(stateDir, a2, 1, 'a2-1.json');
    const r = await reseal({ tpm: fx.tpm, stateDir, pcrAuthority: pointFromKey(a2) });
    expect(r.from).to.contain('the PolicyAuthorize of authority');
    expect((await start(stateDir)).identity.reportPublicKey).to.equal(before.identity.reportPublicKey);
    await rm(join(trustPaths(stateDir).pcrPolicies, 'a2-1.json'));
    const err = await expectCodeAsync(() => start(stateDir), 'ANCHOR_UNAVAILABLE');
    expect(err.message).to.contain('found none');
  });

  it('the CLI: edgeseal reseal --pcr-authority KEY.pem.pub says what it was sealed to and which policy opens it', async () => {
    await fx.reboot();
    const p = await provisionFresh(fx.tpm);
    await publish(p.stateDir, a1, 1);
    const pub = join(p.stateDir, 'authority.pem.pub');
    await writeFile(pub, createPublicKey(a1).export({ format: 'pem', type: 'spki' }).toString());
    await fx.tpm.close();
    try {
      const r = await runCli('reseal', '--pcr-authority', pub, '--tpm-swtpm', fx.swtpm.address, '--state-dir', p.stateDir);
      expect(r.code, r.err).to.equal(EXIT.OK);
      expect(r.out).to.contain(`resealed ${p.identity.deviceId}`).and.contain('was sealed to plain PolicyPCR sha256:0,2,4,7').and.contain('opens with    signed PCR policy generation 1');
      expect((await runCli('reseal', '--tpm-swtpm', fx.swtpm.address, '--state-dir', p.stateDir)).code).to.equal(EXIT.USAGE);
    } finally {
      fx.tpm = await TpmClient.open({ swtpm: fx.swtpm.address });
    }
  });

  it('provision --force clears a reseal record of the earlier provisioning', async () => {
    await fx.reboot();
    const p = await provisionFresh(fx.tpm);
    await publish(p.stateDir, a1, 1);
    await reseal({ tpm: fx.tpm, stateDir: p.stateDir, pcrAuthority: pointFromKey(a1) });
    expect(await readSealRecord(fx.tpm, ownerAuth())).to.not.equal(undefined);
    const again = await provision({ tpm: fx.tpm, stateDir: p.stateDir, rootBytes: rootJson(1), hardwareId: 'board-a', now: NOW, pcrs: POLICY_PCRS, force: true });
    expect(await readSealRecord(fx.tpm, ownerAuth())).to.equal(undefined);
    expect((await start(p.stateDir)).identity.deviceId).to.equal(again.identity.deviceId);
  });
});
