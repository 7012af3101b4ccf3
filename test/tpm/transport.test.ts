import { expect } from 'chai';
import { createServer, type Server, type Socket } from 'node:net';
import { startSwtpm, type Swtpm } from '../helpers/swtpm.js';
import { freePort } from '../helpers/free-port.js';
import { expectCodeAsync, expectCode } from '../helpers/expect-code.js';
import { openTransport, parseHostPort, type TpmTransport } from '../../src/tpm/transport.js';

// TPM2_GetRandom(8): tag NO_SESSIONS, size 12, cc 0x17B, bytesRequested 8
const GET_RANDOM_8 = Uint8Array.from([0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x7b, 0, 8]);

// An in-process fake TPM that answers every command with the given bytes (hostile or broken TPMs).
async function fakeTpm(reply: (socket: Socket) => void): Promise<{ server: Server; address: string }> {
  const port = await freePort();
  const server = createServer((socket) => socket.once('data', () => reply(socket)));
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { server, address: `127.0.0.1:${port}` };
}

function header(size: number, rc = 0): Buffer {
  const b = Buffer.alloc(10);
  b.writeUInt16BE(0x8001, 0);
  b.writeUInt32BE(size, 2);
  b.writeUInt32BE(rc, 6);
  return b;
}

describe('tpm/transport', function () {
  describe('swtpm socket', function () {
    let swtpm: Swtpm;
    let transport: TpmTransport;
    before(async function () {
      swtpm = await startSwtpm();
      transport = await openTransport({ swtpm: swtpm.address });
    });
    after(async function () {
      await transport?.close();
      await swtpm?.stop();
    });

    it('round-trips a raw GetRandom command and frames the response by responseSize', async function () {
      const rsp = await transport.send(GET_RANDOM_8);
      const view = Buffer.from(rsp);
      expect(view.readUInt32BE(2)).to.equal(rsp.length);
      expect(view.readUInt32BE(6), 'TPM_RC_SUCCESS').to.equal(0);
      expect(view.readUInt16BE(10), 'randomBytes.size').to.equal(8);
      expect(rsp.length).to.equal(20);
    });

    it('serialises concurrent sends: each caller gets its own complete response', async function () {
      const rsps = await Promise.all(Array.from({ length: 8 }, () => transport.send(GET_RANDOM_8)));
      for (const r of rsps) expect(r.length).to.equal(20);
      expect(new Set(rsps.map((r) => Buffer.from(r).toString('hex'))).size).to.equal(8);
    });

    it('survives a swtpm restart only through a new connection (the old one reports TPM_UNREACHABLE)', async function () {
      await swtpm.restart();
      await expectCodeAsync(() => transport.send(GET_RANDOM_8), 'TPM_UNREACHABLE');
      await transport.close();
      transport = await openTransport({ swtpm: swtpm.address });
      expect((await transport.send(GET_RANDOM_8)).length).to.equal(20);
    });
  });

  describe('configuration errors', function () {
    it('says what was tried and what to install when no swtpm listens', async function () {
      const port = await freePort();
      const err = await expectCodeAsync(() => openTransport({ swtpm: `127.0.0.1:${port}` }), 'TPM_UNREACHABLE');
      expect(err.message).to.include(`127.0.0.1:${port}`).and.include('apt-get install swtpm').and.include('tpm.device');
    });

    it('says what was tried and what to configure when the device is missing', async function () {
      const err = await expectCodeAsync(() => openTransport({ device: '/nonexistent/tpmrm0' }), 'TPM_UNREACHABLE');
      expect(err.message).to.include('/nonexistent/tpmrm0').and.include('ENOENT').and.include('tpm.swtpm');
    });

    it('rejects a malformed host:port as CONFIG_INVALID', function () {
      expectCode(() => parseHostPort('localhost'), 'CONFIG_INVALID');
      expectCode(() => parseHostPort('127.0.0.1:70000'), 'CONFIG_INVALID');
      expect(parseHostPort('[::1]:2321')).to.deep.equal({ host: '::1', port: 2321 });
      expect(parseHostPort('127.0.0.1:2321')).to.deep.equal({ host: '127.0.0.1', port: 2321 });
    });
  });

  describe('hostile responses over the socket', function () {
    const cases: { name: string; reply: (s: Socket) => void; code: 'TPM_MALFORMED_RESPONSE' | 'TPM_UNREACHABLE' }[] = [
      { name: 'responseSize below the header size', reply: (s) => s.write(header(4)), code: 'TPM_MALFORMED_RESPONSE' },
      { name: 'responseSize of 4 GiB', reply: (s) => s.write(header(0xffffffff)), code: 'TPM_MALFORMED_RESPONSE' },
      { name: 'more bytes than responseSize', reply: (s) => s.write(Buffer.concat([header(10), Buffer.alloc(5)])), code: 'TPM_MALFORMED_RESPONSE' },
      { name: 'truncated then closed', reply: (s) => s.end(Buffer.concat([header(30), Buffer.alloc(5)])), code: 'TPM_MALFORMED_RESPONSE' },
      { name: 'closed without a byte', reply: (s) => s.end(), code: 'TPM_UNREACHABLE' },
      { name: 'silence (timeout)', reply: () => undefined, code: 'TPM_UNREACHABLE' },
    ];
    for (const c of cases) {
      it(`${c.name} → ${c.code}`, async function () {
        const fake = await fakeTpm(c.reply);
        const t = await openTransport({ swtpm: fake.address }, { timeoutMs: 200 });
        try {
          await expectCodeAsync(() => t.send(GET_RANDOM_8), c.code);
          // the stream is out of step: later commands fail instead of reading stale bytes
          await expectCodeAsync(() => t.send(GET_RANDOM_8), 'TPM_UNREACHABLE');
        } finally {
          await t.close();
          fake.server.close();
        }
      });
    }

    it('a response split across many TCP segments is reassembled', async function () {
      const body = Buffer.concat([header(20), Buffer.from([0, 8, 1, 2, 3, 4, 5, 6, 7, 8])]);
      const fake = await fakeTpm((s) => {
        let i = 0;
        const drip = (): void => {
          if (i < body.length) s.write(body.subarray(i, ++i), () => setTimeout(drip, 1));
        };
        drip();
      });
      const t = await openTransport({ swtpm: fake.address }, { timeoutMs: 2000 });
      try {
        expect(Buffer.from(await t.send(GET_RANDOM_8)).equals(body)).to.be.true;
      } finally {
        await t.close();
        fake.server.close();
      }
    });
  });
});
