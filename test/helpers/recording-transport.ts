import type { TpmTransport } from '../../src/tpm/transport.js';

// Records the responses a live TPM gave, so they can be replayed with faults.
export class Recorder implements TpmTransport {
  readonly description = 'recorder';
  log: Uint8Array[] = [];
  constructor(private readonly inner: TpmTransport) {}
  async send(command: Uint8Array): Promise<Uint8Array> {
    const r = await this.inner.send(command);
    this.log.push(r);
    return r;
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
