import { createServer, type Server } from 'node:net';
import { EdgesealError } from '../core/errors.js';
import { optionalDependency } from '../io/optional-dependency.js';

export interface EmbeddedBroker {
  url: string;
  port: number;
  close(): Promise<void>;
}

// The first-run demo's broker: an in-process aedes broker bound to loopback only, so a newcomer sees
// telemetry flowing with nothing installed. The agent never starts one (no broker: events wait in the
// outbox); aedes is a development/optional peer dependency the device install leaves out.
export async function startEmbeddedBroker(opts: { port?: number } = {}): Promise<EmbeddedBroker> {
  const { Aedes } = await optionalDependency('aedes', "the first-run demo's embedded MQTT broker", () => import('aedes'));
  const broker = await Aedes.createBroker();
  const server: Server = createServer((socket) => broker.handle(socket));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new EdgesealError('BROKER_UNREACHABLE', `embedded broker: cannot listen on 127.0.0.1:${opts.port ?? 0}: ${err.message}`, { cause: err })));
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        // Close clients first; server.close waits for every open socket.
        broker.close(() => server.close(() => resolve()));
      }),
  };
}
