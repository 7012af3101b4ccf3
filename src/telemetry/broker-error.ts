import { EdgesealError } from '../core/errors.js';
import { redactUrl as redact } from '../core/redact-url.js';

const PROTOCOLS = new Set(['mqtt:', 'mqtts:', 'ws:', 'wss:']);
// CONNACK return codes that mean "the broker refused us" (MQTT 3.1.1: 2,4,5; MQTT 5: 133–138, 140).
const REFUSAL_CODES = new Set([2, 4, 5, 133, 134, 135, 136, 137, 138, 140]);

// Checks a broker URL before any connection attempt, so a typo is a config error, not a retry loop.
export function parseBrokerUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (err) {
    throw new EdgesealError('CONFIG_INVALID', `broker URL: expected mqtt://host:port or mqtts://host:port, found ${JSON.stringify(url)}`, { cause: err });
  }
  if (!PROTOCOLS.has(parsed.protocol) || parsed.hostname === '') {
    throw new EdgesealError('CONFIG_INVALID', `broker URL: expected scheme mqtt|mqtts|ws|wss and a host, found ${JSON.stringify(url)}`);
  }
  return parsed;
}

// Maps what mqtt.js / the socket reported into BROKER_REJECTED (it said no) or BROKER_UNREACHABLE.
export function classifyBrokerError(err: unknown, url: string): EdgesealError {
  if (err instanceof EdgesealError) return err;
  const e = err as { code?: unknown; message?: string };
  const message = e.message ?? String(err);
  if (typeof e.code === 'number' && REFUSAL_CODES.has(e.code)) {
    return new EdgesealError('BROKER_REJECTED', `broker ${redact(url)} refused the connection: expected CONNACK success, found "${message}" (code ${String(e.code)}); check username/password and ACLs`, { cause: err });
  }
  if (typeof e.code === 'string' && /CERT|SELF_SIGNED|TLS|SSL|UNABLE_TO/.test(e.code)) {
    return new EdgesealError('BROKER_UNREACHABLE', `TLS handshake with ${redact(url)} failed: ${message} (${e.code}); check the CA and client certificate paths`, { cause: err });
  }
  return new EdgesealError('BROKER_UNREACHABLE', `cannot reach broker ${redact(url)}: ${message}`, { cause: err });
}
