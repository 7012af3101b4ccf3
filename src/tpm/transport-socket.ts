import { connect, type Socket } from 'node:net';
import { EdgesealError } from '../core/errors.js';
import { SerialQueue } from './queue.js';
import { HEADER_BYTES, declaredResponseSize } from './framing.js';
import type { TpmTransport } from './transport.js';

interface Pending {
  resolve(response: Uint8Array): void;
  reject(err: Error): void;
  chunks: Buffer[];
  received: number;
  expected?: number;
}

// swtpm's TCP data port: raw TPM command bytes in, raw response bytes out (no simulator framing).
// swtpm serves one connection at a time, so this holds one socket open and sends one command at a time.
class SocketTransport implements TpmTransport {
  readonly description: string;
  private readonly queue = new SerialQueue();
  private pending: Pending | undefined;
  private failure: string | undefined;

  constructor(
    private readonly socket: Socket,
    host: string,
    port: number,
    private readonly timeoutMs: number,
  ) {
    this.description = `swtpm ${host}:${port}`;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => (this.failure ??= err.message));
    socket.on('close', () => this.onClose());
  }

  send(command: Uint8Array): Promise<Uint8Array> {
    return this.queue.run(() => this.exchange(command));
  }

  async close(): Promise<void> {
    this.failure ??= 'transport closed';
    if (this.socket.destroyed) return;
    await new Promise<void>((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.end();
      // a peer that never finishes the close handshake must not hang shutdown
      setTimeout(() => this.socket.destroy(), 1000).unref();
    });
  }

  private exchange(command: Uint8Array): Promise<Uint8Array> {
    if (this.failure !== undefined || this.socket.destroyed) {
      return Promise.reject(new EdgesealError('TPM_UNREACHABLE', `${this.description}: connection unusable (${this.failure ?? 'closed'})`));
    }
    return new Promise<Uint8Array>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.abort(new EdgesealError('TPM_UNREACHABLE', `${this.description}: expected a response within ${this.timeoutMs} ms, got ${this.pending?.received ?? 0} bytes`));
      }, this.timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.pending = undefined;
      };
      this.pending = {
        resolve: (r) => (done(), resolve(r)),
        reject: (e) => (done(), reject(e)),
        chunks: [],
        received: 0,
      };
      this.socket.write(command);
    });
  }

  private onData(chunk: Buffer): void {
    const p = this.pending;
    if (!p) {
      this.abort(new EdgesealError('TPM_MALFORMED_RESPONSE', `${this.description}: ${chunk.length} bytes arrived with no command outstanding`));
      return;
    }
    p.chunks.push(chunk);
    p.received += chunk.length;
    try {
      if (p.expected === undefined && p.received >= HEADER_BYTES) p.expected = declaredResponseSize(Buffer.concat(p.chunks));
      if (p.expected === undefined || p.received < p.expected) return;
      if (p.received > p.expected) {
        throw new EdgesealError('TPM_MALFORMED_RESPONSE', `${this.description}: responseSize says ${p.expected} bytes, received ${p.received}`);
      }
      p.resolve(new Uint8Array(Buffer.concat(p.chunks)));
    } catch (err) {
      this.abort(err as Error);
    }
  }

  private onClose(): void {
    const p = this.pending;
    if (!p) return;
    this.failure ??= 'connection closed';
    p.reject(
      p.received > 0
        ? new EdgesealError('TPM_MALFORMED_RESPONSE', `${this.description}: connection closed after ${p.received} of ${p.expected ?? '?'} response bytes`)
        : new EdgesealError('TPM_UNREACHABLE', `${this.description}: connection closed before a response (${this.failure})`),
    );
  }

  // The byte stream is out of step after any framing error: fail the command and drop the connection.
  private abort(err: Error): void {
    this.failure ??= err.message;
    this.pending?.reject(err);
    this.socket.destroy();
  }
}

export function connectSwtpmTransport(host: string, port: number, timeoutMs: number): Promise<TpmTransport> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    socket.setNoDelay(true);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connect timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(new SocketTransport(socket, host, port, timeoutMs));
    });
  });
}
