import { EdgesealError } from '../../core/errors.js';

// HTTP listener of the collector: loopback by default; any other address needs TLS and a bearer token,
// because the dashboard shows device identities and refusals.
export interface HttpConfig {
  host: string;
  port: number;
  tlsCert?: string; // PEM paths
  tlsKey?: string;
  tokenFile?: string; // file holding the bearer token
}

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|localhost)$/;

export function isLoopback(host: string): boolean {
  return LOOPBACK.test(host);
}

// Pure check of the exposure rule; the config parser and the server both call it.
export function assertHttpExposure(c: HttpConfig): void {
  if ((c.tlsCert === undefined) !== (c.tlsKey === undefined)) throw new EdgesealError('CONFIG_INVALID', 'http.tlsCert/http.tlsKey: expected both or neither');
  if (isLoopback(c.host)) return;
  const missing = [c.tlsCert === undefined ? 'TLS (http.tlsCert, http.tlsKey)' : '', c.tokenFile === undefined ? 'a bearer token (http.tokenFile)' : ''].filter(Boolean);
  if (missing.length) throw new EdgesealError('CONFIG_INVALID', `http.host ${c.host}: expected loopback, or ${missing.join(' and ')} to listen elsewhere`);
}
