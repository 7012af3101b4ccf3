// One error type for the whole project: a stable code that scripts and telemetry key on,
// a message that says what was expected and what was found, and the inner cause.

export const ERROR_CODES = [
  // TUF metadata and images
  'MALFORMED_METADATA',
  'SIGNATURE_THRESHOLD',
  'DIGEST_MISMATCH',
  'LENGTH_MISMATCH',
  'EXPIRED',
  'ROLLBACK',
  'UNKNOWN_TARGET',
  'HARDWARE_MISMATCH',
  'KIND_MISMATCH',
  'DELEGATION_VIOLATION',
  'OVERSIZED',
  'UNSAFE_PATH',
  'FETCH_FAILED',
  'SLOW_RETRIEVAL', // a transfer slower than update.minBytesPerSecond, or an update run past its budget
  'TLS_UNTRUSTED', // the update server's certificate does not chain to the configured CA (or the system store)
  'TLS_CLIENT_REJECTED', // the update server refused our client certificate, or its absence (mutual TLS)
  'PROXY_FAILED', // the HTTP proxy could not be reached or refused the CONNECT tunnel
  'CLOCK_BEHIND_FLOOR',
  // revocation
  'KEY_REVOKED',
  'IMAGE_REVOKED',
  'BELOW_MINIMUM_VERSION',
  'REVOCATION_STALE',
  'REVOCATION_UNAUTHENTICATED',
  // TPM and trust anchors
  'TPM_UNREACHABLE',
  'TPM_ERROR',
  'TPM_MALFORMED_RESPONSE',
  'TPM_RESPONSE_FORGED', // a response HMAC of our salted session did not verify
  'ANCHOR_UNAVAILABLE',
  'ANCHOR_MISMATCH',
  'ANCHOR_EXISTS',
  'NV_PIN_INVALID',
  'FLOOR_VIOLATION',
  'EVENT_LOG_MISMATCH',
  // OTA
  'GATE_REFUSED',
  'INSTALL_FAILED',
  'NO_UPDATE',
  'INSUFFICIENT_SPACE',
  'OUTSIDE_MAINTENANCE_WINDOW',
  'MARKED_BAD', // an integrator's edgeseal mark-bad rolled a trial slot back (docs/health.md)
  'MARK_REFUSED', // edgeseal mark-good|mark-bad|mark-active does not apply to the device's state (e.g. no trial running)
  'HEALTH_CHECK_FAILED', // a trial slot's health check failed or missed its deadline (docs/health.md): rolled back
  'ROLLOUT_WITHHELD', // a staged rollout (halted, or this device's bucket not yet reached) holds the target back
  'PCR_POLICY_MISSING', // a release changes measured components and no cached signed PCR policy opens the anchor after it (P7)
  'ROLLOUT_WIDENS', // a rollout policy names what the targets role did not sign, or signs more than its policy
  // configuration, CLI, storage, telemetry
  'CONFIG_INVALID',
  'USAGE',
  'KEY_INVALID',
  'PASSPHRASE_REQUIRED',
  'SIGNER_FAILED', // a PKCS#11 token or external signer command did not produce a valid signature
  'CEREMONY_CONFLICT', // two ceremony bundles (or a bundle and the workdir) hold different bytes for one role
  'STORAGE_ERROR',
  'OUTBOX_LOCKED',
  'BROKER_UNREACHABLE',
  'BROKER_REJECTED',
  'SIGNATURE_INVALID',
  'COMMAND_INVALID',
  'RATE_LIMITED', // fleet commands beyond the cmd-topic rate cap
  'EVENT_INVALID',
  'DEPENDENCY_MISSING', // an optional npm package (peerDependency) that this feature needs is not installed
  'PACKAGING_FAILED', // npm run package: a device tarball could not be built as specified (native code, missing runtime)
  // fleet side
  'DEVICE_UNKNOWN',
  'DEVICE_DECOMMISSIONED',
  'SEQ_CONFLICT', // same device key and seq, different bytes
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class EdgesealError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EdgesealError';
    this.code = code;
  }
}

// Wraps anything thrown by a library into an EdgesealError with the given code, keeping it as cause.
export function asEdgesealError(err: unknown, fallback: ErrorCode = 'INTERNAL'): EdgesealError {
  if (err instanceof EdgesealError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new EdgesealError(fallback, message, { cause: err });
}

export function isEdgesealError(err: unknown, code?: ErrorCode): err is EdgesealError {
  return err instanceof EdgesealError && (code === undefined || err.code === code);
}
