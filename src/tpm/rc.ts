import { EdgesealError } from '../core/errors.js';

// TPM_RC decoding (Part 2 §6.6, Table 16): format-one codes carry which handle, session or parameter
// was at fault; format-zero codes are TPM 2.0 errors (VER1) or warnings (WARN).
const RC_VER1 = 0x100;
const RC_FMT1 = 0x080;
const RC_WARN = 0x900;

const FMT1_NAMES: Record<number, string> = {
  0x01: 'ASYMMETRIC', 0x02: 'ATTRIBUTES', 0x03: 'HASH', 0x04: 'VALUE', 0x05: 'HIERARCHY', 0x07: 'KEY_SIZE',
  0x08: 'MGF', 0x09: 'MODE', 0x0a: 'TYPE', 0x0b: 'HANDLE', 0x0c: 'KDF', 0x0d: 'RANGE', 0x0e: 'AUTH_FAIL',
  0x0f: 'NONCE', 0x10: 'PP', 0x12: 'SCHEME', 0x15: 'SIZE', 0x16: 'SYMMETRIC', 0x17: 'TAG', 0x18: 'SELECTOR',
  0x1a: 'INSUFFICIENT', 0x1b: 'SIGNATURE', 0x1c: 'KEY', 0x1d: 'POLICY_FAIL', 0x1f: 'INTEGRITY', 0x20: 'TICKET',
  0x21: 'RESERVED_BITS', 0x22: 'BAD_AUTH', 0x23: 'EXPIRED', 0x24: 'POLICY_CC', 0x25: 'BINDING', 0x26: 'CURVE',
  0x27: 'ECC_POINT',
};

const VER1_NAMES: Record<number, string> = {
  0x00: 'INITIALIZE', 0x01: 'FAILURE', 0x03: 'SEQUENCE', 0x0b: 'PRIVATE', 0x19: 'HMAC', 0x20: 'DISABLED',
  0x21: 'EXCLUSIVE', 0x24: 'AUTH_TYPE', 0x25: 'AUTH_MISSING', 0x26: 'POLICY', 0x27: 'PCR', 0x28: 'PCR_CHANGED',
  0x2d: 'UPGRADE', 0x2e: 'TOO_MANY_CONTEXTS', 0x2f: 'AUTH_UNAVAILABLE', 0x30: 'REBOOT', 0x31: 'UNBALANCED',
  0x42: 'COMMAND_SIZE', 0x43: 'COMMAND_CODE', 0x44: 'AUTHSIZE', 0x45: 'AUTH_CONTEXT', 0x46: 'NV_RANGE',
  0x47: 'NV_SIZE', 0x48: 'NV_LOCKED', 0x49: 'NV_AUTHORIZATION', 0x4a: 'NV_UNINITIALIZED', 0x4b: 'NV_SPACE',
  0x4c: 'NV_DEFINED', 0x50: 'BAD_CONTEXT', 0x51: 'CPHASH', 0x52: 'PARENT', 0x53: 'NEEDS_TEST', 0x54: 'NO_RESULT',
  0x55: 'SENSITIVE',
};

const WARN_NAMES: Record<number, string> = {
  0x01: 'CONTEXT_GAP', 0x02: 'OBJECT_MEMORY', 0x03: 'SESSION_MEMORY', 0x04: 'MEMORY', 0x05: 'SESSION_HANDLES',
  0x06: 'OBJECT_HANDLES', 0x07: 'LOCALITY', 0x08: 'YIELDED', 0x09: 'CANCELED', 0x0a: 'TESTING',
  0x10: 'REFERENCE_H0', 0x11: 'REFERENCE_H1', 0x12: 'REFERENCE_H2', 0x13: 'REFERENCE_H3', 0x14: 'REFERENCE_H4',
  0x15: 'REFERENCE_H5', 0x16: 'REFERENCE_H6', 0x18: 'REFERENCE_S0', 0x19: 'REFERENCE_S1', 0x1a: 'REFERENCE_S2',
  0x1b: 'REFERENCE_S3', 0x1c: 'REFERENCE_S4', 0x1d: 'REFERENCE_S5', 0x1e: 'REFERENCE_S6', 0x20: 'NV_RATE',
  0x21: 'LOCKOUT', 0x22: 'RETRY', 0x23: 'NV_UNAVAILABLE',
};

export interface DecodedRc {
  readonly rc: number;
  // e.g. 'TPM_RC_POLICY_FAIL' (without the handle/session/parameter number)
  readonly name: string;
  readonly where?: { kind: 'handle' | 'session' | 'parameter'; index: number };
  // e.g. 'TPM_RC_POLICY_FAIL on session 1'
  readonly text: string;
}

const hex = (n: number): string => `0x${n.toString(16).padStart(3, '0')}`;

export function decodeRc(rc: number): DecodedRc {
  if (rc & RC_FMT1) {
    const base = RC_FMT1 | (rc & 0x3f);
    const name = `TPM_RC_${FMT1_NAMES[rc & 0x3f] ?? `FMT1_${hex(base)}`}`;
    const n = (rc >> 8) & 0xf;
    let where: DecodedRc['where'];
    if (rc & 0x40) where = { kind: 'parameter', index: n };
    else if (n & 0x8) where = { kind: 'session', index: n & 0x7 };
    else if (n) where = { kind: 'handle', index: n };
    return { rc, name, where, text: where ? `${name} on ${where.kind} ${where.index}` : name };
  }
  const low = rc & 0x7f;
  let name: string | undefined;
  if ((rc & 0xf80) === RC_WARN) name = WARN_NAMES[low];
  else if ((rc & 0xf80) === RC_VER1) name = VER1_NAMES[low];
  else if (rc === 0x01e) name = 'BAD_TAG';
  // vendor-defined (bit 10) and TPM 1.2 codes have no standard name
  const full = name ? `TPM_RC_${name}` : `TPM_RC_UNKNOWN_${hex(rc)}`;
  return { rc, name: full, text: full };
}

// Warnings after which the same command may simply be sent again (Part 3 §5.4, Part 2 Table 16).
const RETRYABLE = new Set(['TPM_RC_RETRY', 'TPM_RC_YIELDED', 'TPM_RC_TESTING']);
export function isRetryable(rc: number): boolean {
  return RETRYABLE.has(decodeRc(rc).name);
}

// A TPM that answered with a non-success response code: TPM_ERROR with the raw and decoded code kept.
export class TpmResponseError extends EdgesealError {
  readonly rc: number;
  readonly rcName: string;
  readonly command: string;
  readonly where: DecodedRc['where'];

  constructor(command: string, rc: number) {
    const d = decodeRc(rc);
    super('TPM_ERROR', `TPM2_${command}: expected TPM_RC_SUCCESS, got ${d.text} (${hex(rc)})`);
    this.rc = rc;
    this.rcName = d.name;
    this.command = command;
    this.where = d.where;
  }
}

// True when err is a TPM response error with the given decoded name, e.g. 'TPM_RC_POLICY_FAIL'.
export function isTpmRc(err: unknown, name: string): err is TpmResponseError {
  return err instanceof TpmResponseError && err.rcName === name;
}
