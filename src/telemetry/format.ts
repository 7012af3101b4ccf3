import { asEdgesealError } from '../core/errors.js';
import { parseEnvelope, verifyEnvelope } from './envelope.js';
import type { TelemetryEvent } from './event.js';
import type { MetricsBody } from './metrics.js';

export type SignatureCheck = 'ok' | 'forged' | 'unchecked';

export interface FormattedMessage {
  line: string;
  forged: boolean;
}

function describeEvent(e: TelemetryEvent): string {
  if (e.type === 'metrics') {
    const m = e.metrics as unknown as Partial<MetricsBody>;
    const v = m.verify;
    const p95 = m.verifyLatencyMs?.p95;
    const dropped = m.outbox ? Object.values(m.outbox.dropped).reduce((a, b) => a + b, 0) : 0;
    return `metrics verify ${v?.successes ?? 0}/${v?.attempts ?? 0} ok${p95 != null ? `, p95 ${p95} ms` : ''}, blocked ${m.blockedInstalls ?? 0}, outbox ${m.outbox?.depth ?? 0}, dropped ${dropped}`;
  }
  const parts: string[] = [e.type, e.verdict.toUpperCase()];
  if (e.code) parts.push(e.code);
  if (e.image) parts.push([e.image.name, e.image.version, e.image.sha256 && `sha256:${e.image.sha256.slice(0, 12)}…`].filter(Boolean).join(' '));
  if (e.rootVersion !== undefined) parts.push(`root v${e.rootVersion}`);
  if (e.keyids?.length) parts.push(`keys ${e.keyids.map((k) => k.slice(0, 8)).join(',')}`);
  if (e.latencyMs !== undefined) parts.push(`${e.latencyMs} ms`);
  if (e.detail) parts.push(`"${e.detail}"`);
  return parts.join('  ');
}

// One human line per MQTT message on a fleet's topics; with a public key, signatures are checked too.
export function formatMessage(topic: string, payload: Uint8Array, publicKey?: Uint8Array): FormattedMessage {
  const levels = topic.split('/');
  const channel = levels.at(-1);
  const who = levels.slice(-3, -1).join('/');
  if (channel === 'status') {
    const text = Buffer.from(payload).toString('utf8').slice(0, 200);
    let state = text;
    try {
      const parsed = (JSON.parse(text) as { state?: unknown }).state;
      if (typeof parsed === 'string') state = parsed;
    } catch {
      // not JSON: show the raw payload
    }
    return { line: `${who}  status ${state}`, forged: false };
  }
  if (channel !== 'event' && channel !== 'metrics') return { line: `${who}  ${channel ?? topic} (${payload.length} bytes)`, forged: false };
  try {
    const env = parseEnvelope(payload);
    let check: SignatureCheck = 'unchecked';
    if (publicKey) {
      try {
        verifyEnvelope(env, publicKey);
        check = 'ok';
      } catch {
        check = 'forged';
      }
    }
    const e = env.event;
    return { line: `${e.time}  ${e.fleet}/${e.deviceId}  #${e.seq}  ${describeEvent(e)}  [sig ${check}]`, forged: check === 'forged' };
  } catch (err) {
    const e = asEdgesealError(err);
    return { line: `${who}  ${channel}  MALFORMED [${e.code}] ${e.message.slice(0, 200)}`, forged: true };
  }
}
