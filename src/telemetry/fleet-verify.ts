import { asEdgesealError, EdgesealError, type ErrorCode } from '../core/errors.js';
import { parseEnvelope, verifyEnvelope, type SignedEnvelope } from './envelope.js';

export type LineResult =
  | { line: number; ok: true; deviceId: string; seq: number; type: string }
  | { line: number; ok: false; code: ErrorCode; message: string };

export interface VerifySummary {
  verified: number;
  rejected: number;
  // Per device, sequence numbers missing between the lowest and highest seen (dropped or lost events).
  gaps: Record<string, number[]>;
}

const MAX_GAPS_LISTED = 100;

// The key an envelope must verify against: one device key, or a lookup in a registry of many devices.
export type KeyResolver = (env: SignedEnvelope) => Uint8Array | undefined;

// Fleet side: checks JSONL envelopes one line at a time against the device public key, or the key the
// registry holds for the envelope's fleet, device and keyid (constant memory apart from the seen
// sequence numbers). Blank lines are skipped.
export class EventLineVerifier {
  private lineNo = 0;
  private verified = 0;
  private rejected = 0;
  private readonly seqs = new Map<string, Set<number>>();

  constructor(private readonly key: Uint8Array | KeyResolver) {}

  add(text: string): LineResult | undefined {
    this.lineNo += 1;
    if (text.trim() === '') return undefined;
    try {
      const env = parseEnvelope(text);
      const { deviceId, seq, type } = env.event;
      const key = typeof this.key === 'function' ? this.key(env) : this.key;
      if (!key) throw new EdgesealError('DEVICE_UNKNOWN', `event seq ${seq} from ${env.event.fleet}/${deviceId}: expected a key in the registry, found none for keyid ${env.sig.keyid.slice(0, 12)}`);
      verifyEnvelope(env, key);
      this.verified += 1;
      const stream = typeof this.key === 'function' ? `${env.event.fleet}/${deviceId}#${env.sig.keyid.slice(0, 12)}` : deviceId;
      this.seqs.set(stream, (this.seqs.get(stream) ?? new Set()).add(seq));
      return { line: this.lineNo, ok: true, deviceId, seq, type };
    } catch (err) {
      const e = asEdgesealError(err);
      this.rejected += 1;
      return { line: this.lineNo, ok: false, code: e.code, message: e.message };
    }
  }

  summary(): VerifySummary {
    const gaps: Record<string, number[]> = {};
    for (const [device, set] of this.seqs) {
      const sorted = [...set].sort((a, b) => a - b);
      const missing: number[] = [];
      for (let s = sorted[0] ?? 0; s <= (sorted.at(-1) ?? 0) && missing.length < MAX_GAPS_LISTED; s++) if (!set.has(s)) missing.push(s);
      if (missing.length) gaps[device] = missing;
    }
    return { verified: this.verified, rejected: this.rejected, gaps };
  }
}
