// OLPC canonical JSON (http://wiki.laptop.org/go/Canonical_JSON) exactly as securesystemslib and
// @tufjs/canonical-json write it: object keys sorted by UTF-16 code units (Array.prototype.sort), only
// `\` and `"` escaped, integers only. Signatures already in the field cover these bytes, so the output
// must stay identical to @tufjs/canonical-json's for every input (test/core/canonical-json.test.ts).
// One output array and no string replacement when there is nothing to escape: ~3× faster on a large
// targets file, which the offline verifier canonicalises on every `verify`.

export function canonicalize(value: unknown): string {
  const out: string[] = [];
  write(value, out);
  return out.join('');
}

const NEEDS_ESCAPE = /[\\"]/;

function quote(s: string): string {
  return NEEDS_ESCAPE.test(s) ? `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"` : `"${s}"`;
}

// The same branches in the same order as @tufjs/canonical-json, so that odd inputs (boxed strings, typed
// arrays, sparse arrays) come out the same too.
function write(value: unknown, out: string[]): void {
  if (typeof value === 'string') out.push(quote(value));
  else if (typeof value === 'boolean') out.push(value ? 'true' : 'false');
  else if (Number.isInteger(value)) out.push(JSON.stringify(value));
  else if (value === null) out.push('null');
  else if (Array.isArray(value)) writeArray(value, out);
  else if (typeof value === 'object') writeObject(value as Record<string, unknown>, out);
  else throw new TypeError(`cannot encode ${typeof value === 'number' ? value : typeof value}`); // floats, NaN, undefined, …
}

function writeArray(items: readonly unknown[], out: string[]): void {
  out.push('[');
  let first = true;
  // forEach, as the reference does: holes in a sparse array are skipped, not written as null
  items.forEach((item) => {
    if (!first) out.push(',');
    first = false;
    write(item, out);
  });
  out.push(']');
}

function writeObject(object: Record<string, unknown>, out: string[]): void {
  out.push('{');
  const keys = Object.keys(object).sort();
  for (let i = 0; i < keys.length; i++) {
    if (i > 0) out.push(',');
    out.push(quote(keys[i]), ':');
    write(object[keys[i]], out);
  }
  out.push('}');
}
