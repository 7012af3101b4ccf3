import { createServer, type Server } from 'node:net';
import { EdgesealError } from '../core/errors.js';
import { optionalDependency } from '../io/optional-dependency.js';

export interface EmbeddedBroker {
  url: string;
  port: number;
  close(): Promise<void>;
}

// First-run default when no broker is configured: an in-process aedes broker bound to loopback only,
// so a newcomer sees telemetry flowing with nothing installed. Not for production fleets: aedes is a
// development/peer dependency the device install leaves out (DEPENDENCY_MISSING there).
export async function startEmbeddedBroker(opts: { port?: number } = {}): Promise<EmbeddedBroker> {
  const { Aedes } = await optionalDependency('aedes', 'the embedded MQTT broker (used when telemetry.broker is not set)', () => import('aedes'));
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
