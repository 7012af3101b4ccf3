// "did you mean": the known key closest to a misspelt one (onFailur → onFailure, updates → update,
// caFile → ca), or the section that holds a key given at the wrong level (measurePcr → tpm.measurePcr).

// Keys this long are not typos of ours; comparing them would only cost time.
const MAX_KEY = 64;

function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur.push(Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1)));
    prev = cur;
  }
  return prev[b.length];
}

export function suggest(key: string, known: readonly string[]): string | undefined {
  if (key.length > MAX_KEY) return undefined;
  const k = key.toLowerCase();
  // caFile / certFile / keyFile: a known key plus a suffix
  const prefixed = known.filter((c) => c.length >= 2 && k.startsWith(c.toLowerCase())).sort((a, b) => b.length - a.length)[0];
  if (prefixed !== undefined) return prefixed;
  let best: { key: string; d: number } | undefined;
  for (const c of known) {
    const d = distance(k, c.toLowerCase());
    if (d <= Math.max(2, Math.floor(c.length / 3)) && (!best || d < best.d)) best = { key: c, d };
  }
  return best?.key;
}

interface Nested {
  readonly fields?: Readonly<Record<string, unknown>>;
}

// "KEY: unknown key; did you mean PATH.X?" (without the leading path, which the caller adds).
export function unknownKeyHint(key: string, path: string, fields: Readonly<Record<string, unknown>>): string {
  const prefix = path ? `${path}.` : '';
  // keys are quoted the way JSON would (no raw control characters), long ones cut short
  const shown = `${JSON.stringify(key.slice(0, MAX_KEY)).slice(1, -1)}${key.length > MAX_KEY ? '…' : ''}`;
  const near = suggest(key, Object.keys(fields));
  if (near !== undefined) return `${shown}: unknown key; did you mean ${prefix}${near}?`;
  for (const [name, def] of Object.entries(fields)) {
    const inner = (def as Nested).fields;
    if (inner && Object.hasOwn(inner, key)) return `${shown}: unknown key; did you mean ${prefix}${name}.${key}?`;
  }
  return `${shown}: unknown key (expected one of ${Object.keys(fields).join(', ')})`;
}
