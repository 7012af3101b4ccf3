import { EdgesealError } from '../core/errors.js';

// Certificate checks of the server that failed on our side (OpenSSL verify codes and Node's host check).
const UNTRUSTED = /^(UNABLE_TO_|SELF_SIGNED_CERT|DEPTH_ZERO_SELF_SIGNED|CERT_|ERR_TLS_CERT_ALTNAME_INVALID|INVALID_CA|HOSTNAME_MISMATCH)/;
// Alerts the server sent: it refused our client certificate, or our lack of one.
const REFUSED = /ALERT_(CERTIFICATE_REQUIRED|BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_UNKNOWN|ACCESS_DENIED|UNSUPPORTED_CERTIFICATE|CERTIFICATE_REVOKED|CERTIFICATE_EXPIRED|HANDSHAKE_FAILURE|DECRYPT_ERROR)$/;

export interface TlsContext {
  readonly url: URL;
  readonly privateCa: boolean; // a CA was configured (update.tls.ca) rather than the system store
  readonly clientCert: boolean; // a client certificate was configured (update.tls.cert)
  readonly handshakeDone: boolean; // the server's certificate had been verified when the error came
}

// Names a TLS failure by whose check failed, with what was expected and what was found; undefined when
// the error is not a TLS verdict (refused connection, DNS, …).
export function classifyTlsError(err: Error & { code?: unknown }, ctx: TlsContext): EdgesealError | undefined {
  const code = typeof err.code === 'string' ? err.code : '';
  const host = ctx.url.host;
  if (UNTRUSTED.test(code)) {
    const anchor = ctx.privateCa ? 'the configured CA (update.tls.ca)' : 'the system CA store (set update.tls.ca for a private CA)';
    return new EdgesealError('TLS_UNTRUSTED', `${host}: expected a server certificate for ${ctx.url.hostname} that chains to ${anchor}, found ${code}: ${err.message}`, { cause: err });
  }
  if (REFUSED.test(code)) {
    const sent = ctx.clientCert ? 'the configured client certificate (update.tls.cert)' : 'no client certificate (update.tls.cert/key unset)';
    return new EdgesealError('TLS_CLIENT_REJECTED', `${host}: expected the server to accept ${sent}, found TLS alert ${code.replace(/^ERR_SSL_/, '')}`, { cause: err });
  }
  // Some servers (Node's among them) refuse a client certificate by closing the connection, no alert
  if (code === 'ECONNRESET' && ctx.handshakeDone && ctx.clientCert) {
    return new EdgesealError('TLS_CLIENT_REJECTED', `${host}: expected the server to accept the configured client certificate (update.tls.cert), found the connection closed right after the TLS handshake, before any answer (how a server that checks client certificates refuses one it does not trust)`, { cause: err });
  }
  return undefined;
}
