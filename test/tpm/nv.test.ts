import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startSwtpm, type Swtpm } from '../helpers/swtpm.js';
import { expectCodeAsync } from '../helpers/expect-code.js';
import { TpmClient } from '../../src/tpm/client.js';
import { TPM_HT } from '../../src/tpm/constants.js';
import { ownerAuth } from '../../src/tpm/nv.js';
import type { TpmResponseError } from '../../src/tpm/rc.js';

const run = promisify(execFile);
const PIN = 0x01500100;
const COUNTER = 0x01500101;
const BIG = 0x01500102;

describe('tpm NV indices (swtpm)', function () {
  let swtpm: Swtpm;
  let tpm: TpmClient;
  const reconnect = async (): Promise<void> => {
    tpm = await TpmClient.open({ swtpm: swtpm.address });
  };

  before(async function () {
    swtpm = await startSwtpm();
    await reconnect();
  });
  after(async function () {
    await tpm?.close();
    await swtpm?.stop();
  });

  it('a write-once pin: define, write, write-lock; ReadPublic shows WRITTEN and WRITELOCKED only when they are', async function () {
    await tpm.nvDefineSpace({ index: PIN, type: 'ordinary', attributes: ['OWNERWRITE', 'AUTHREAD', 'OWNERREAD', 'WRITEDEFINE', 'NO_DA'], dataSize: 32 });
    let pub = (await tpm.nvReadPublic(PIN)).public;
    expect(pub).to.include({ index: PIN, nameAlg: 'sha256', dataSize: 32 });
    expect(pub.attributes).to.include({ type: 'ordinary', written: false, writeLocked: false });
    // reading an index never written is refused
    const unwritten = (await expectCodeAsync(() => tpm.nvRead(PIN, 32), 'TPM_ERROR')) as TpmResponseError;
    expect(unwritten.rcName).to.equal('TPM_RC_NV_UNINITIALIZED');

    const data = new Uint8Array(32).map((_, i) => i * 7);
    await tpm.nvWrite(PIN, data, 0, ownerAuth());
    pub = (await tpm.nvReadPublic(PIN)).public;
    expect(pub.attributes).to.include({ written: true, writeLocked: false });
    expect([...(await tpm.nvRead(PIN, 32))]).to.deep.equal([...data]);

    await tpm.nvWriteLock(PIN, ownerAuth());
    pub = (await tpm.nvReadPublic(PIN)).public;
    expect(pub.attributes).to.include({ written: true, writeLocked: true });
    expect([...pub.attributes.set]).to.have.members(['OWNERWRITE', 'AUTHREAD', 'OWNERREAD', 'WRITEDEFINE', 'NO_DA', 'WRITTEN', 'WRITELOCKED']);
    const locked = (await expectCodeAsync(() => tpm.nvWrite(PIN, new Uint8Array(32), 0, ownerAuth()), 'TPM_ERROR')) as TpmResponseError;
    expect(locked.rcName).to.equal('TPM_RC_NV_LOCKED');
  });

  it('tpm2_nvread and tpm2_nvreadpublic agree with NV_Read and the decoded attributes', async function () {
    const ours = Buffer.from(await tpm.nvRead(PIN, 32)).toString('hex');
    const { raw } = (await tpm.nvReadPublic(PIN)).public.attributes;
    await tpm.close();
    try {
      const env = { ...process.env, TPM2TOOLS_TCTI: swtpm.tcti };
      const read = await run('tpm2_nvread', ['0x01500100', '-C', '0x01500100', '-s', '32'], { env, encoding: 'buffer' });
      expect(read.stdout.toString('hex')).to.equal(ours);
      const pub = await run('tpm2_nvreadpublic', ['0x01500100'], { env });
      expect(pub.stdout).to.match(new RegExp(`value: 0x${raw.toString(16)}`, 'i'));
    } finally {
      await reconnect();
    }
  });

  it('a counter only goes up, and a redefined counter continues from the highest value seen', async function () {
    await tpm.nvDefineSpace({ index: COUNTER, type: 'counter', attributes: ['AUTHWRITE', 'AUTHREAD', 'NO_DA'], dataSize: 8 });
    expect((await tpm.nvReadPublic(COUNTER)).public.attributes).to.include({ type: 'counter', written: false });
    await tpm.nvIncrement(COUNTER);
    const first = await tpm.nvReadCounter(COUNTER);
    await tpm.nvIncrement(COUNTER);
    await tpm.nvIncrement(COUNTER);
    expect(await tpm.nvReadCounter(COUNTER)).to.equal(first + 2n);
    // NV_Write to a counter is refused: only NV_Increment changes it
    const err = (await expectCodeAsync(() => tpm.nvWrite(COUNTER, new Uint8Array(8)), 'TPM_ERROR')) as TpmResponseError;
    expect(err.rcName).to.equal('TPM_RC_ATTRIBUTES');
    await tpm.nvUndefineSpace(COUNTER);
    await tpm.nvDefineSpace({ index: COUNTER, type: 'counter', attributes: ['AUTHWRITE', 'AUTHREAD', 'NO_DA'], dataSize: 8 });
    await tpm.nvIncrement(COUNTER);
    const again = await tpm.nvReadCounter(COUNTER);
    expect(again > first + 2n, `redefined counter ${again} must exceed ${first + 2n}`).to.be.true;
  });

  it('reads and writes an index larger than one NV buffer in chunks', async function () {
    await tpm.nvDefineSpace({ index: BIG, type: 'ordinary', attributes: ['AUTHWRITE', 'AUTHREAD', 'NO_DA'], dataSize: 1500 });
    const data = new Uint8Array(1500).map((_, i) => (i * 31) & 0xff);
    await tpm.nvWrite(BIG, data);
    expect(Buffer.from(await tpm.nvRead(BIG, 1500)).equals(Buffer.from(data))).to.be.true;
    expect([...(await tpm.nvRead(BIG, 4, 1000))]).to.deep.equal([...data.subarray(1000, 1004)]);
  });

  it('a reboot (swtpm restart on the same state) keeps NV contents, attributes and counters', async function () {
    const counter = await tpm.nvReadCounter(COUNTER);
    const pin = await tpm.nvRead(PIN, 32);
    await tpm.close();
    await swtpm.restart();
    await reconnect();
    expect(await tpm.nvReadCounter(COUNTER)).to.equal(counter);
    expect([...(await tpm.nvRead(PIN, 32))]).to.deep.equal([...pin]);
    // WRITEDEFINE: the write lock survives the reboot
    expect((await tpm.nvReadPublic(PIN)).public.attributes).to.include({ written: true, writeLocked: true });
    expect(await tpm.getHandles(TPM_HT.NV_INDEX)).to.include.members([PIN, COUNTER, BIG]);
  });

  it('NV_UndefineSpace removes an index; defining an existing one is TPM_RC_NV_DEFINED', async function () {
    const dup = (await expectCodeAsync(
      () => tpm.nvDefineSpace({ index: BIG, type: 'ordinary', attributes: ['AUTHWRITE', 'AUTHREAD'], dataSize: 8 }),
      'TPM_ERROR',
    )) as TpmResponseError;
    expect(dup.rcName).to.equal('TPM_RC_NV_DEFINED');
    await tpm.nvUndefineSpace(BIG);
    expect(await tpm.getHandles(TPM_HT.NV_INDEX)).to.not.include(BIG);
    const gone = (await expectCodeAsync(() => tpm.nvReadPublic(BIG), 'TPM_ERROR')) as TpmResponseError;
    expect(gone.rcName).to.equal('TPM_RC_HANDLE');
  });
});
