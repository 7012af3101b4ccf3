import { EdgesealError } from '../core/errors.js';
import { openDeviceTransport } from './transport-device.js';
import { connectSwtpmTransport } from './transport-socket.js';

// Moves one marshalled TPM command to the TPM and returns its complete response bytes.
export interface TpmTransport {
  // e.g. "device /dev/tpmrm0" or "swtpm 127.0.0.1:2321", for status output and errors
  readonly description: string;
  send(command: Uint8Array): Promise<Uint8Array>;
  close(): Promise<void>;
}

// `tpm.device: /dev/tpmrm0` (a real TPM behind the kernel resource manager) or `tpm.swtpm: host:port`.
export type TpmConfig = { device: string } | { swtpm: string };

export interface TransportOptions {
  // per-command response timeout; TPM key generation can take seconds on real hardware
  timeoutMs?: number;
}

export const DEFAULT_TPM_DEVICE = '/dev/tpmrm0';
export const DEFAULT_TIMEOUT_MS = 30_000;

// Splits 'host:port' (IPv6 as '[::1]:port'); throws CONFIG_INVALID naming the bad value.
export function parseHostPort(value: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port < 1 || port > 65535) {
    throw new EdgesealError('CONFIG_INVALID', `tpm.swtpm: expected 'host:port' (e.g. 127.0.0.1:2321), found '${value}'`);
  }
  return { host: m[1] ?? m[2] ?? '', port };
}

// Opens the configured transport, failing with TPM_UNREACHABLE that says what was tried and what to do.
export async function openTransport(config: TpmConfig, opts: TransportOptions = {}): Promise<TpmTransport> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if ('device' in config) {
    try {
      return await openDeviceTransport(config.device, timeoutMs);
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw new EdgesealError(
        'TPM_UNREACHABLE',
        `no TPM at device ${config.device} (${reason}): expected a TPM 2.0 character device; ` +
          `enable the TPM in firmware and load tpm_tis/tpm_crb (ls /dev/tpm*), run as a user in group 'tss', ` +
          `or configure tpm.swtpm: host:port (--tpm-swtpm) for a software TPM (apt-get install swtpm)`,
        { cause: err },
      );
    }
  }
  const { host, port } = parseHostPort(config.swtpm);
  try {
    return await connectSwtpmTransport(host, port, timeoutMs);
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new EdgesealError(
      'TPM_UNREACHABLE',
      `no TPM at swtpm ${host}:${port} (${reason}): expected swtpm listening there, e.g. ` +
        `'swtpm socket --tpm2 --tpmstate dir=DIR --server type=tcp,port=${port} --ctrl type=tcp,port=${port + 1} --flags startup-clear' ` +
        `(apt-get install swtpm), or configure tpm.device: ${DEFAULT_TPM_DEVICE} (--tpm-device) on a device with a TPM; ` +
        `note swtpm serves one client at a time`,
      { cause: err },
    );
  }
}
