import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { establishTrust } from '../../src/trust/establish.js';
import { DEFAULT_MEASUREMENT_PCR, formatEvent, logLines } from '../../src/trust/event-log.js';
import { readPcr } from '../../src/trust/measure.js';
import { DEFAULT_NV_INDICES } from '../../src/trust/nv-layout.js';
import { NV_PIN_LENGTH, encodeNvPin } from '../../src/trust/nv-pin.js';
import { expectCodeAsync } from '../helpers/expect-code.js';
import { NOW, provisionFresh, startTrustFixture, type TrustFixture } from './tpm-fixture.js';

const run = promisify(execFile);
const hex = (s: string): string => createHash('sha256').update(s).digest('hex');
const images = [
  { name: 'fw-board-a.bin', version: '1.0.0', sha256: hex('firmware') },
  { name: 'os.img', version: '2.1.0', sha256: hex('os') },
];

describe('measurement (P4) and tpm2-tools cross-checks against swtpm', function () {
  let fx: TrustFixture;
  before(async () => (fx = await startTrustFixture()));
  after(async () => fx?.close());

  it('measures images into PCR 6 (the default) and the event log; replay equals the PCR; a forged line is detected', async () => {
    const p = await provisionFresh(fx.tpm);
    const trust = await establishTrust({ tpm: fx.tpm, stateDir: p.stateDir });
    for (const image of images) await trust.measure(image, NOW);
    const events = await trust.verifyEventLog();
    expect(events.map((e) => e.image)).to.deep.equal(['fw-board-a.bin', 'os.img']);
    expect(events[0]).to.include({ pcr: 6, digest: hex('firmware'), version: '1.0.0', time: NOW.toISOString() });
    const expected = [hex('firmware'), hex('os')].reduce((acc, d) => createHash('sha256').update(acc).update(Buffer.from(d, 'hex')).digest(), Buffer.alloc(32));
    expect(Buffer.from(await readPcr(fx.tpm, 6)).equals(expected)).to.be.true;

    const path = trust.measurementLog.path;
    const lines = logLines(await readFile(path, 'utf8'));
    await writeFile(path, [lines[0], formatEvent({ ...events[1], digest: hex('evil os') })].join('\n') + '\n');
    await expectCodeAsync(() => trust.verifyEventLog(), 'EVENT_LOG_MISMATCH');
    await writeFile(path, `${lines[1]}\n${lines[0]}\n`);
    await expectCodeAsync(() => trust.verifyEventLog(), 'EVENT_LOG_MISMATCH');
  });

  it('refuses a measurement PCR inside the seal policy (it would lock the boot out of its anchors)', async () => {
    const p = await provisionFresh(fx.tpm);
    await expectCodeAsync(() => establishTrust({ tpm: fx.tpm, stateDir: p.stateDir, measurementPcr: 7 }), 'CONFIG_INVALID');
    expect((await establishTrust({ tpm: fx.tpm, stateDir: p.stateDir, measurementPcr: 16 })).measurementLog.pcr).to.equal(16);
  });

  it('a reboot (TPM resetCount + 1) moves the old log aside and starts a fresh one', async () => {
    const p = await provisionFresh(fx.tpm);
    const trust = await establishTrust({ tpm: fx.tpm, stateDir: p.stateDir });
    await trust.measure(images[0], NOW);
    const old = await readFile(trust.measurementLog.path, 'utf8');
    await fx.reboot();
    const next = await establishTrust({ tpm: fx.tpm, stateDir: p.stateDir });
    expect(await next.verifyEventLog()).to.deep.equal([]);
    expect(await readFile(next.measurementLog.previousPath, 'utf8')).to.equal(old);
    await next.measure(images[1], NOW);
    expect((await next.verifyEventLog()).map((e) => e.image)).to.deep.equal(['os.img']);
  });

  it('a PCR firmware already extended (not at zero) replays from its value when the log began; a restart in the same boot keeps the log', async () => {
    const p = await provisionFresh(fx.tpm);
    // firmware's EV_SEPARATOR before the OS: PCR 6 does not start at zero on a real board
    await fx.tpm.pcrExtend(6, [{ hash: 'sha256', digest: Buffer.from(hex('separator'), 'hex') }]);
    const trust = await establishTrust({ tpm: fx.tpm, stateDir: p.stateDir });
    await trust.measure(images[0], NOW);
    expect((await trust.verifyEventLog()).map((e) => e.image)).to.deep.equal(['fw-board-a.bin']);
    // the agent restarts within the same boot: same resetCount, the log goes on
    const again = await establishTrust({ tpm: fx.tpm, stateDir: p.stateDir });
    await again.measure(images[1], NOW);
    expect((await again.verifyEventLog()).map((e) => e.image)).to.deep.equal(['fw-board-a.bin', 'os.img']);
    // a base forged in the boot record no longer replays to the TPM's value
    const record = `${again.measurementLog.path}.boot`;
    const r = JSON.parse(await readFile(record, 'utf8')) as { base: string };
    await writeFile(record, JSON.stringify({ ...r, base: '0'.repeat(64) }));
    await expectCodeAsync(() => again.verifyEventLog(), 'EVENT_LOG_MISMATCH');
    await fx.reboot();
  });

  it('a device whose config names PCR 23 (provisioned before PCR 6 was the default) keeps measuring there', async () => {
    const p = await provisionFresh(fx.tpm);
    const trust = await establishTrust({ tpm: fx.tpm, stateDir: p.stateDir, measurementPcr: 23 });
    await trust.measure(images[0], NOW);
    expect((await trust.verifyEventLog())[0]).to.include({ pcr: 23 });
    // the same boot switched to PCR 6 by config: the PCR-23 log is moved aside, the PCR-6 log starts
    const moved = await establishTrust({ tpm: fx.tpm, stateDir: p.stateDir });
    expect(await moved.verifyEventLog()).to.deep.equal([]);
    expect(await readFile(moved.measurementLog.previousPath, 'utf8')).to.contain('"pcr":23');
  });

  it('local root cannot reset the default PCR at locality 0 (tpm2_pcrreset refused), but can reset 16 and 23', async () => {
    await fx.tpm.close();
    try {
      const env = { ...process.env, TPM2TOOLS_TCTI: fx.swtpm.tcti };
      const reset = (pcr: number) => run('tpm2_pcrreset', [String(pcr)], { env }).then(() => 'reset', () => 'refused');
      expect(await reset(DEFAULT_MEASUREMENT_PCR)).to.equal('refused');
      expect(await reset(16)).to.equal('reset');
      expect(await reset(23)).to.equal('reset');
      // and 17–22 cannot even be extended from locality 0
      expect(await run('tpm2_pcrextend', [`20:sha256=${'0'.repeat(64)}`], { env }).then(() => 'extended', () => 'refused')).to.equal('refused');
    } finally {
      await fx.reboot();
    }
  });

  it('tpm2-tools reads the same NV pin bytes and measurement PCR value', async () => {
    const p = await provisionFresh(fx.tpm);
    const trust = await establishTrust({ tpm: fx.tpm, stateDir: p.stateDir });
    await trust.measure(images[0], NOW);
    const pcr6 = Buffer.from(await readPcr(fx.tpm, 6)).toString('hex');
    const pin = Buffer.from(encodeNvPin(trust.pin));
    await fx.tpm.close(); // swtpm serves one client at a time
    try {
      const env = { ...process.env, TPM2TOOLS_TCTI: fx.swtpm.tcti };
      const nv = await run('tpm2_nvread', ['-C', 'o', '-s', String(NV_PIN_LENGTH), `0x${DEFAULT_NV_INDICES.pin.toString(16)}`], { env, encoding: 'buffer' });
      expect(Buffer.compare(nv.stdout, pin)).to.equal(0);
      const pcr = await run('tpm2_pcrread', ['sha256:6'], { env });
      expect(pcr.stdout.toLowerCase()).to.contain(`0x${pcr6}`);
    } finally {
      await fx.reboot();
    }
  });
});
