import { expect } from 'chai';
import { expectCodeAsync } from '../helpers/expect-code.js';
import { TransportRunner, type CommandResult, type CommandSpec } from '../../src/tpm/command.js';
import { withFlush } from '../../src/tpm/policy.js';
import { TpmResponseError, decodeRc, isRetryable } from '../../src/tpm/rc.js';
import type { TpmTransport } from '../../src/tpm/transport.js';

function response(rc: number, body: number[] = []): Uint8Array {
  const b = Buffer.alloc(10 + body.length);
  b.writeUInt16BE(0x8001, 0);
  b.writeUInt32BE(b.length, 2);
  b.writeUInt32BE(rc, 6);
  Buffer.from(body).copy(b, 10);
  return new Uint8Array(b);
}

// A transport that answers from a script, counting what it was sent.
function scripted(replies: Uint8Array[]): TpmTransport & { sent: number } {
  const t = {
    description: 'scripted',
    sent: 0,
    send(): Promise<Uint8Array> {
      const r = replies[Math.min(t.sent++, replies.length - 1)];
      return Promise.resolve(r);
    },
    close: () => Promise.resolve(),
  };
  return t;
}

describe('tpm/rc', function () {
  it('decodes format-one codes with the handle, session or parameter at fault', function () {
    expect(decodeRc(0x99d).text).to.equal('TPM_RC_POLICY_FAIL on session 1');
    expect(decodeRc(0x18b).text).to.equal('TPM_RC_HANDLE on handle 1');
    expect(decodeRc(0x1c4).text).to.equal('TPM_RC_VALUE on parameter 1');
    expect(decodeRc(0x2d5)).to.include({ name: 'TPM_RC_SIZE', text: 'TPM_RC_SIZE on parameter 2' });
    expect(decodeRc(0x98e).where).to.deep.equal({ kind: 'session', index: 1 });
    expect(decodeRc(0x09d).text).to.equal('TPM_RC_POLICY_FAIL');
  });

  it('decodes format-zero errors and warnings, and names unknown codes by value', function () {
    expect(decodeRc(0x100).name).to.equal('TPM_RC_INITIALIZE');
    expect(decodeRc(0x148).name).to.equal('TPM_RC_NV_LOCKED');
    expect(decodeRc(0x14a).name).to.equal('TPM_RC_NV_UNINITIALIZED');
    expect(decodeRc(0x902).name).to.equal('TPM_RC_OBJECT_MEMORY');
    expect(decodeRc(0x922).name).to.equal('TPM_RC_RETRY');
    expect(decodeRc(0x01e).name).to.equal('TPM_RC_BAD_TAG');
    expect(decodeRc(0x57f).name).to.equal('TPM_RC_UNKNOWN_0x57f');
  });

  it('only RETRY, YIELDED and TESTING are retryable', function () {
    expect([0x922, 0x908, 0x90a].map(isRetryable)).to.deep.equal([true, true, true]);
    expect([0x902, 0x99d, 0x101, 0x148].map(isRetryable)).to.deep.equal([false, false, false, false]);
  });

  it('resends a command after TPM_RC_RETRY / YIELDED, then succeeds', async function () {
    const t = scripted([response(0x922), response(0x908), response(0, [0, 2, 0xab, 0xcd])]);
    const sleeps: number[] = [];
    const runner = new TransportRunner(t, { sleep: (ms) => (sleeps.push(ms), Promise.resolve()) });
    const { params } = await runner.run({ cc: 'GetRandom', params: Uint8Array.of(0, 2) });
    expect([...params.tpm2b('randomBytes')]).to.deep.equal([0xab, 0xcd]);
    expect(t.sent).to.equal(3);
    expect(sleeps).to.deep.equal([20, 40]);
  });

  it('gives up after a bounded number of retries with the decoded code', async function () {
    const t = scripted([response(0x90a)]);
    const runner = new TransportRunner(t, { maxRetries: 3, sleep: () => Promise.resolve() });
    const err = (await expectCodeAsync(() => runner.run({ cc: 'GetRandom', params: Uint8Array.of(0, 2) }), 'TPM_ERROR')) as TpmResponseError;
    expect(err.rcName).to.equal('TPM_RC_TESTING');
    expect(t.sent).to.equal(4);
  });

  it('does not retry a real refusal', async function () {
    const t = scripted([response(0x99d)]);
    const runner = new TransportRunner(t, { sleep: () => Promise.resolve() });
    await expectCodeAsync(() => runner.run({ cc: 'Unseal', handles: [0x80000001], auths: [{ kind: 'password' }] }), 'TPM_ERROR');
    expect(t.sent).to.equal(1);
  });

  it('withFlush flushes after success and failure, and a failing flush never hides the original error', async function () {
    const flushed: number[] = [];
    const runner = {
      run(spec: CommandSpec): Promise<CommandResult> {
        expect(spec.cc).to.equal('FlushContext');
        flushed.push(new DataView((spec.params ?? new Uint8Array(4)).buffer).getUint32(0));
        return Promise.reject(new TpmResponseError('FlushContext', 0x18b));
      },
    };
    const err = await expectCodeAsync(() => withFlush(runner, 0x80000001, () => Promise.reject(new TpmResponseError('Unseal', 0x99d))), 'TPM_ERROR');
    expect((err as TpmResponseError).rcName).to.equal('TPM_RC_POLICY_FAIL');
    // on success, a failing flush is reported
    const err2 = await expectCodeAsync(() => withFlush(runner, 0x80000002, () => Promise.resolve(1)), 'TPM_ERROR');
    expect((err2 as TpmResponseError).command).to.equal('FlushContext');
    expect(flushed).to.deep.equal([0x80000001, 0x80000002]);
  });
});
