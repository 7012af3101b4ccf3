import { EdgesealError } from '../core/errors.js';

// A TPM response never exceeds a few KiB (MAX_RESPONSE_SIZE is 4096 on common TPMs); cap generously.
export const MAX_RESPONSE_BYTES = 64 * 1024;
export const HEADER_BYTES = 10;

// Reads responseSize from a response header (bytes 2..5, big-endian) and bounds-checks it.
export function declaredResponseSize(header: Uint8Array): number {
  if (header.length < HEADER_BYTES) {
    throw new EdgesealError('TPM_MALFORMED_RESPONSE', `TPM response: expected at least ${HEADER_BYTES} header bytes, found ${header.length}`);
  }
  const size = new DataView(header.buffer, header.byteOffset, header.byteLength).getUint32(2);
  if (size < HEADER_BYTES || size > MAX_RESPONSE_BYTES) {
    throw new EdgesealError('TPM_MALFORMED_RESPONSE', `TPM response: expected responseSize ${HEADER_BYTES}..${MAX_RESPONSE_BYTES}, found ${size}`);
  }
  return size;
}
