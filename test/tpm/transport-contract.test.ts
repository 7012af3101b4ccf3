import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../helpers/free-port.js';
import { expectCodeAsync } from '../helpers/expect-code.js';
import { openTransport, type TpmTransport } from '../../src/tpm/transport.js';

// One contract, run against both transports (socket and character device), each talking to an
// echo "TPM": a command header is also a well-framed response header, so the echo tests framing.

interface Harness {
  transport: TpmTransport;
  teardown(): Promise<void>;
}

function frame(size: number, fill: number, declared = size): Uint8Array {
  const b = Buffer.alloc(size, fill);
  b.writeUInt16BE(0x8001, 0);
  b.writeUInt32BE(declared, 2);
  return new Uint8Array(b);
}

function transportContract(name: string, build: () => Promise<Harness>): void {
  describe(`TpmTransport contract: ${name}`, function () {
    let h: Harness;
    beforeEach(async function () {
      h = await build();
    });
    afterEach(async function () {
      await h.teardown();
    });

    it('returns exactly the one framed response to a command', async function () {
      const cmd = frame(300, 0x5a);
      expect(Buffer.from(await h.transport.send(cmd)).equals(Buffer.from(cmd))).to.be.true;
    });

    it('keeps one command in flight: concurrent sends each get their own response', async function () {
      const cmds = Array.from({ length: 16 }, (_, i) => frame(12 + i * 50, i));
      const rsps = await Promise.all(cmds.map((c) => h.transport.send(c)));
      rsps.forEach((r, i) => expect(Buffer.from(r).equals(Buffer.from(cmds[i])), `response ${i}`).to.be.true);
    });

    it('a responseSize below the header or above the cap is TPM_MALFORMED_RESPONSE', async function () {
      await expectCodeAsync(() => h.transport.send(frame(12, 1, 4)), 'TPM_MALFORMED_RESPONSE');
      await h.teardown();
      h = await build();
      await expectCodeAsync(() => h.transport.send(frame(12, 1, 0x7fffffff)), 'TPM_MALFORMED_RESPONSE');
    });

    it('after close, sending is TPM_UNREACHABLE and closing again is harmless', async function () {
      await h.transport.close();
      await expectCodeAsync(() => h.transport.send(frame(12, 1)), 'TPM_UNREACHABLE');
      await h.transport.close();
    });
  });
}

transportContract('swtpm TCP socket', async () => {
  const port = await freePort();
  const server: Server = createServer((s) => s.on('data', (d) => s.write(d)));
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const transport = await openTransport({ swtpm: `127.0.0.1:${port}` }, { timeoutMs: 2000 });
  return {
    transport,
    async teardown() {
      await transport.close();
      await new Promise((resolve) => server.close(resolve));
    },
  };
});

// A FIFO opened read-write behaves like a TPM character device that echoes: one write, one read.
transportContract('character device (FIFO stand-in for /dev/tpmrm0)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'edgeseal-tpmdev-'));
  const path = join(dir, 'tpmrm0');
  await promisify(execFile)('mkfifo', [path]);
  const transport = await openTransport({ device: path }, { timeoutMs: 2000 });
  return {
    transport,
    async teardown() {
      await transport.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});
