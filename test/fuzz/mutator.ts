// The shared mutator of the fuzz harness: a seeded PRNG (so every failure replays from its seed and
// iteration), byte-level mutations for binary inputs, and structure-aware JSON mutations.

export class Rng {
  private s: number;

  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }

  // mulberry32
  u32(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  int(n: number): number {
    return n <= 0 ? 0 : this.u32() % n;
  }

  chance(p: number): boolean {
    return this.u32() / 2 ** 32 < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  bytes(n: number): Uint8Array {
    return Uint8Array.from({ length: n }, () => this.int(256));
  }
}

const INTERESTING_U32 = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff];

// 1–4 byte-level edits: bit flips, interesting values, inserts, deletes, truncation, duplication.
export function mutateBytes(rng: Rng, input: Uint8Array): Uint8Array {
  let b: Uint8Array = Uint8Array.from(input);
  for (let n = 1 + rng.int(4); n > 0; n--) {
    const at = rng.int(b.length + 1);
    switch (rng.int(8)) {
      case 0:
        if (b.length) b[Math.min(at, b.length - 1)] ^= 1 << rng.int(8);
        break;
      case 1:
        if (b.length) b[Math.min(at, b.length - 1)] = rng.pick([0, 1, 0x7f, 0x80, 0xff]);
        break;
      case 2:
        if (b.length >= 4) new DataView(b.buffer).setUint32(Math.min(at, b.length - 4), rng.pick(INTERESTING_U32));
        break;
      case 3:
        b = concat(b.subarray(0, at), rng.bytes(1 + rng.int(16)), b.subarray(at));
        break;
      case 4:
        b = concat(b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + rng.int(16))));
        break;
      case 5:
        b = b.slice(0, at);
        break;
      case 6:
        b = concat(b, b.subarray(at, at + 1 + rng.int(64)));
        break;
      default:
        if (b.length >= 2) new DataView(b.buffer).setUint16(Math.min(at, b.length - 2), rng.pick(INTERESTING_U32) & 0xffff);
    }
  }
  return b;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

// Keys a lookup by input must never resolve to Object.prototype members.
export const PROTOTYPE_KEYS = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'prototype', 'isPrototypeOf'];

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function strange(rng: Rng): Json {
  return rng.pick<() => Json>([
    () => null,
    () => true,
    () => 0,
    () => -1,
    () => 1.5,
    () => 2 ** 53,
    () => 1e308,
    () => '',
    () => 'x',
    () => rng.pick(PROTOTYPE_KEYS),
    () => 'é\u0000\n'.repeat(1 + rng.int(4)),
    () => 'A'.repeat(1 + rng.int(5000)),
    () => [],
    () => ({}),
    () => Array.from({ length: 1 + rng.int(50) }, () => rng.int(1000)),
    () => JSON.parse('['.repeat(200) + ']'.repeat(200)) as Json,
    () => withKey({}, rng.pick(PROTOTYPE_KEYS), rng.pick<Json>([null, 1, 'x', {}, []])),
  ])();
}

// An own, enumerable property even for `__proto__` (an assignment would set the prototype instead).
function withKey(o: { [k: string]: Json }, key: string, value: Json): { [k: string]: Json } {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
  return o;
}

// Every container in the document, so a mutation can target any depth.
function containers(v: Json, out: (Json[] | { [k: string]: Json })[] = []): (Json[] | { [k: string]: Json })[] {
  if (v !== null && typeof v === 'object') {
    out.push(v);
    for (const child of Array.isArray(v) ? v : Object.values(v)) containers(child, out);
  }
  return out;
}

// 1–3 structural edits of a JSON document: replace a value by a strange one, delete or add a key
// (often an Object.prototype name), duplicate a list entry, or swap a value's type.
export function mutateJson(rng: Rng, doc: unknown): unknown {
  const root = structuredClone(doc) as Json;
  for (let n = 1 + rng.int(3); n > 0; n--) {
    const all = containers(root);
    if (!all.length) return strange(rng);
    const c = rng.pick(all);
    if (Array.isArray(c)) {
      const i = rng.int(c.length + 1);
      const op = rng.int(3);
      // a list of names (key ids, paths, hardware ids) gains an Object.prototype member's name
      if (c.length && c.every((x) => typeof x === 'string') && rng.chance(0.5)) c.push(rng.pick(PROTOTYPE_KEYS));
      else if (op === 0 && c.length) c.push(structuredClone(c[rng.int(c.length)]));
      else if (op === 1 && c.length) c.splice(i, 1);
      else c[i] = strange(rng);
      continue;
    }
    const keys = Object.keys(c);
    const op = rng.int(4);
    if (op === 0 && keys.length) delete c[rng.pick(keys)];
    else if (op === 1) withKey(c, rng.chance(0.5) ? rng.pick(PROTOTYPE_KEYS) : `${rng.pick(keys.length ? keys : ['k'])}${rng.int(3)}`, strange(rng));
    else if (keys.length) withKey(c, rng.pick(keys), strange(rng));
  }
  if (rng.chance(0.05)) return strange(rng);
  return root;
}

// A JSON document's text, mutated either structurally (then serialized) or as bytes.
export function mutateJsonText(rng: Rng, doc: unknown): string {
  if (rng.chance(0.6)) return JSON.stringify(mutateJson(rng, doc)) ?? 'null';
  return Buffer.from(mutateBytes(rng, Buffer.from(JSON.stringify(doc)))).toString('utf8');
}
