import { open, type FileHandle } from 'node:fs/promises';
import { EdgesealError } from '../core/errors.js';
import { SerialQueue } from './queue.js';
import { MAX_RESPONSE_BYTES, declaredResponseSize } from './framing.js';
import type { TpmTransport } from './transport.js';

// A TPM character device (/dev/tpmrm0: the kernel resource manager swaps transient objects and
// sessions per open file): one write() of the command, one read() returns the whole response.
class DeviceTransport implements TpmTransport {
  readonly description: string;
  private readonly queue = new SerialQueue();
  private failure: string | undefined;

  constructor(
    private readonly fh: FileHandle,
    path: string,
    private readonly timeoutMs: number,
  ) {
    this.description = `device ${path}`;
  }

  send(command: Uint8Array): Promise<Uint8Array> {
    return this.queue.run(() => this.exchange(command));
  }

  async close(): Promise<void> {
    if (this.failure === 'transport closed') return;
    this.failure = 'transport closed';
    await this.fh.close();
  }

  private async exchange(command: Uint8Array): Promise<Uint8Array> {
    if (this.failure !== undefined) throw new EdgesealError('TPM_UNREACHABLE', `${this.description}: unusable (${this.failure})`);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        // a read still blocked in the kernel would answer a later command: never reuse this handle
        this.failure = 'timed out';
        reject(new EdgesealError('TPM_UNREACHABLE', `${this.description}: expected a response within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
    });
    try {
      return await Promise.race([this.writeRead(command), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async writeRead(command: Uint8Array): Promise<Uint8Array> {
    // the TPM driver takes a command in one write() or not at all
    const { bytesWritten } = await this.fh.write(command, 0, command.length, null);
    if (bytesWritten !== command.length) {
      throw new EdgesealError('TPM_UNREACHABLE', `${this.description}: expected to write ${command.length} command bytes, wrote ${bytesWritten}`);
    }
    const buf = new Uint8Array(MAX_RESPONSE_BYTES + 1);
    const { bytesRead } = await this.fh.read(buf, 0, buf.length, null);
    const response = buf.subarray(0, bytesRead);
    const size = declaredResponseSize(response);
    if (size !== bytesRead) {
      throw new EdgesealError('TPM_MALFORMED_RESPONSE', `${this.description}: responseSize says ${size} bytes, read ${bytesRead}`);
    }
    return response.slice();
  }
}

export async function openDeviceTransport(path: string, timeoutMs: number): Promise<TpmTransport> {
  return new DeviceTransport(await open(path, 'r+'), path, timeoutMs);
}
