import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { establishTrust } from '../../src/trust/establish.js';
import { formatEvent, logLines } from '../../src/trust/event-log.js';
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

  it('measures images into PCR 23 and the event log; replay equals the PCR; a forged line is detected', async () => {
    const p = await provisionFresh(fx.tpm);
    const trust = await establishTrust({ tpm: fx.tpm, stateDir: p.stateDir });
    for (const image of images) await trust.measure(image, NOW);
    const events = await trust.verifyEventLog();
    expect(events.map((e) => e.image)).to.deep.equal(['fw-board-a.bin', 'os.img']);
    expect(events[0]).to.include({ pcr: 23, digest: hex('firmware'), version: '1.0.0', time: NOW.toISOString() });
    const expected = [hex('firmware'), hex('os')].reduce((acc, d) => createHash('sha256').update(acc).update(Buffer.from(d, 'hex')).digest(), Buffer.alloc(32));
    expect(Buffer.from(await readPcr(fx.tpm, 23)).equals(expected)).to.be.true;

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

  it('a reboot resets PCR 23: the next start moves the old log aside and starts a fresh one', async () => {
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

  it('tpm2-tools reads the same NV pin bytes and PCR 23 value', async () => {
    const p = await provisionFresh(fx.tpm);
    const trust = await establishTrust({ tpm: fx.tpm, stateDir: p.stateDir });
    await trust.measure(images[0], NOW);
    const pcr23 = Buffer.from(await readPcr(fx.tpm, 23)).toString('hex');
    const pin = Buffer.from(encodeNvPin(trust.pin));
    await fx.tpm.close(); // swtpm serves one client at a time
    try {
      const env = { ...process.env, TPM2TOOLS_TCTI: fx.swtpm.tcti };
      const nv = await run('tpm2_nvread', ['-C', 'o', '-s', String(NV_PIN_LENGTH), `0x${DEFAULT_NV_INDICES.pin.toString(16)}`], { env, encoding: 'buffer' });
      expect(Buffer.compare(nv.stdout, pin)).to.equal(0);
      const pcr = await run('tpm2_pcrread', ['sha256:23'], { env });
      expect(pcr.stdout.toLowerCase()).to.contain(`0x${pcr23}`);
    } finally {
      await fx.reboot();
    }
  });
});
