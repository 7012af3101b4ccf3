import { asEdgesealError, EdgesealError, type ErrorCode } from '../core/errors.js';
import { parseEnvelope, verifyEnvelope, type SignedEnvelope } from './envelope.js';
import { mergeRanges, type SeqRange } from './seq-ranges.js';

export type LineResult =
  | { line: number; ok: true; deviceId: string; seq: number; type: string }
  | { line: number; ok: false; code: ErrorCode; message: string };

export interface VerifySummary {
  verified: number;
  rejected: number;
  // Per device, sequence numbers missing between the lowest and highest seen that no signed outbox-drop
  // event (schema 2) accounts for: lost, or not in this file.
  gaps: Record<string, number[]>;
  // Per device, missing sequence numbers the device's own signed outbox-drop events name as dropped.
  dropped: Record<string, number[]>;
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
  private readonly drops = new Map<string, SeqRange[]>();

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
      if (env.event.dropped) this.drops.set(stream, mergeRanges([...(this.drops.get(stream) ?? []), ...env.event.dropped]));
      return { line: this.lineNo, ok: true, deviceId, seq, type };
    } catch (err) {
      const e = asEdgesealError(err);
      this.rejected += 1;
      return { line: this.lineNo, ok: false, code: e.code, message: e.message };
    }
  }

  summary(): VerifySummary {
    const gaps: Record<string, number[]> = {};
    const dropped: Record<string, number[]> = {};
    for (const [device, set] of this.seqs) {
      const sorted = [...set].sort((a, b) => a - b);
      const reported = this.drops.get(device) ?? [];
      const lost: number[] = [];
      const gone: number[] = [];
      for (let s = sorted[0] ?? 0; s <= (sorted.at(-1) ?? 0) && lost.length + gone.length < MAX_GAPS_LISTED; s++) {
        if (!set.has(s)) (reported.some(([a, b]) => a <= s && s <= b) ? gone : lost).push(s);
      }
      if (lost.length) gaps[device] = lost;
      if (gone.length) dropped[device] = gone;
    }
    return { verified: this.verified, rejected: this.rejected, gaps, dropped };
  }
}
