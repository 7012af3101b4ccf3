import { TpmClient } from '../../src/tpm/client.js';
import { openTransport, type TpmTransport } from '../../src/tpm/transport.js';

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

// The responses each operation drew from the live TPM at `swtpm` (its address), by operation name, in order.
export async function recordResponses(swtpm: string, ops: readonly { readonly name: string; readonly op: (c: TpmClient) => Promise<unknown> }[]): Promise<Map<string, Uint8Array[]>> {
  const recorded = new Map<string, Uint8Array[]>();
  const rec = new Recorder(await openTransport({ swtpm }));
  const live = new TpmClient(rec);
  try {
    for (const { name, op } of ops) {
      rec.log = [];
      await op(live);
      recorded.set(name, rec.log);
    }
  } finally {
    await live.close();
  }
  return recorded;
}
