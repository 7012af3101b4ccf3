// JSON for log lines, as winston's json format wrote them: object keys sorted (so the same event always
// reads the same), a bigint as its decimal string, a cycle as "[Circular]"; never a throw from a log call.
export function stableJson(value: unknown): string {
  return JSON.stringify(plain(value, new Set())) ?? 'null';
}

function plain(value: unknown, ancestors: Set<object>): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'object' || value === null) return value;
  const json = (value as { toJSON?: unknown }).toJSON;
  if (typeof json === 'function') return plain((json as () => unknown).call(value), ancestors);
  if (ancestors.has(value)) return '[Circular]';
  ancestors.add(value);
  try {
    if (Array.isArray(value)) return value.map((v: unknown) => plain(v, ancestors) ?? null);
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) out[key] = plain((value as Record<string, unknown>)[key], ancestors);
    return out;
  } finally {
    ancestors.delete(value);
  }
}
