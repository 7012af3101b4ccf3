import { connect, createServer, type Server, type Socket } from 'node:net';

// A man in the middle on the TPM bus, for tests: a loopback TCP proxy in front of swtpm that records
// every byte both ways and may rewrite a response (by command code) before our client sees it.
export interface TpmProxy {
  readonly address: string; // host:port for TpmConfig.swtpm
  // everything that crossed the proxy so far, commands and responses
  captured(): Buffer;
  // rewrite responses to command `cc` from now on (undefined: stop)
  tamper(cc: number | undefined, rewrite?: (response: Buffer) => Buffer): void;
  close(): Promise<void>;
}

const size = (b: Buffer): number | undefined => (b.length >= 10 ? b.readUInt32BE(2) : undefined);

// Splits a byte stream into whole TPM messages (each header says its own size).
function framer(onMessage: (m: Buffer) => void): (chunk: Buffer) => void {
  let buf = Buffer.alloc(0);
  return (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    for (let n = size(buf); n !== undefined && buf.length >= n; n = size(buf)) {
      onMessage(buf.subarray(0, n));
      buf = buf.subarray(n);
    }
  };
}

export async function startTpmProxy(upstream: string): Promise<TpmProxy> {
  const [host, port] = upstream.split(':');
  const log: Buffer[] = [];
  let tamper: { cc: number; rewrite: (r: Buffer) => Buffer } | undefined;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const tpm = connect(Number(port), host);
    sockets.add(client).add(tpm);
    let lastCc = 0;
    client.on(
      'data',
      framer((cmd) => {
        lastCc = cmd.readUInt32BE(6);
        log.push(Buffer.from(cmd));
        tpm.write(cmd);
      }),
    );
    tpm.on(
      'data',
      framer((rsp) => {
        const out = tamper && tamper.cc === lastCc ? tamper.rewrite(Buffer.from(rsp)) : rsp;
        log.push(Buffer.from(rsp), Buffer.from(out));
        client.write(out);
      }),
    );
    const end = (): void => {
      client.destroy();
      tpm.destroy();
    };
    client.on('close', end).on('error', end);
    tpm.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('proxy: expected a TCP address');
  return {
    address: `127.0.0.1:${addr.port}`,
    captured: () => Buffer.concat(log),
    tamper(cc, rewrite) {
      tamper = cc === undefined || !rewrite ? undefined : { cc, rewrite };
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
