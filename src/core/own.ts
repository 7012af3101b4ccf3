// The value a record built from input holds under `key` itself, never an inherited member such as
// `constructor`, `toString` or `__proto__` that a plain `record[key]` lookup would return.
export function own<T>(record: Readonly<Record<string, T>> | undefined, key: string): T | undefined {
  return record !== undefined && Object.hasOwn(record, key) ? record[key] : undefined;
}
