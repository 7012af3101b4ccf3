import type { TpmTransport } from '../../src/tpm/transport.js';

// A TPM that answers every GetCapability(HANDLES) with a full page of handles and moreData set, for
// `pages` responses (then a last page without moreData), so a client without a bound loops on.
export class EndlessCapabilityTpm implements TpmTransport {
  readonly description = 'hostile TPM (endless moreData)';
  responses = 0;

  constructor(private readonly pages: number, private readonly perPage = 1024) {}

  send(command: Uint8Array): Promise<Uint8Array> {
    const view = new DataView(command.buffer, command.byteOffset, command.byteLength);
    const capability = view.getUint32(10);
    const property = view.getUint32(14);
    this.responses++;
    const out = new DataView(new ArrayBuffer(10 + 1 + 4 + 4 + 4 * this.perPage));
    out.setUint16(0, 0x8001); // TPM_ST_NO_SESSIONS
    out.setUint32(2, out.byteLength);
    out.setUint32(6, 0); // TPM_RC_SUCCESS
    out.setUint8(10, this.responses < this.pages ? 1 : 0);
    out.setUint32(11, capability);
    out.setUint32(15, this.perPage);
    for (let i = 0; i < this.perPage; i++) out.setUint32(19 + 4 * i, property + i);
    return Promise.resolve(new Uint8Array(out.buffer));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
