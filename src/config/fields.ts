// A collector for config validation: every reader records what is wrong at which path and keeps going,
// so one pass reports every bad field (sigstore's assertBundle pattern).
export class Fields {
  readonly problems: string[] = [];

  constructor(private readonly root: Record<string, unknown>) {}

  private at(path: string): unknown {
    let cur: unknown = this.root;
    for (const key of path.split('.')) {
      if (typeof cur !== 'object' || cur === null) return undefined;
      cur = (cur as Record<string, unknown>)[key];
    }
    return cur;
  }

  private bad(path: string, expected: string, found: unknown): undefined {
    this.problems.push(`${path}: expected ${expected}, found ${found === undefined ? 'nothing' : JSON.stringify(found)}`);
    return undefined;
  }

  has(path: string): boolean {
    return this.at(path) !== undefined;
  }

  string(path: string, opts: { default?: string; pattern?: RegExp; describe?: string } = {}): string {
    const v = this.at(path);
    if (v === undefined && opts.default !== undefined) return opts.default;
    if (typeof v !== 'string' || v.length === 0 || (opts.pattern && !opts.pattern.test(v))) {
      return this.bad(path, opts.describe ?? 'a non-empty string', v) ?? '';
    }
    return v;
  }

  optionalString(path: string, opts: { pattern?: RegExp; describe?: string } = {}): string | undefined {
    return this.has(path) ? this.string(path, opts) : undefined;
  }

  int(path: string, opts: { default?: number; min?: number; max?: number } = {}): number {
    const v = this.at(path);
    if (v === undefined && opts.default !== undefined) return opts.default;
    const min = opts.min ?? Number.MIN_SAFE_INTEGER;
    const max = opts.max ?? Number.MAX_SAFE_INTEGER;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
      return this.bad(path, `an integer from ${min} to ${max}`, v) ?? opts.default ?? 0;
    }
    return v;
  }

  bool(path: string, def: boolean): boolean {
    const v = this.at(path);
    if (v === undefined) return def;
    if (typeof v !== 'boolean') return this.bad(path, 'true or false', v) ?? def;
    return v;
  }

  oneOf<T extends string>(path: string, choices: readonly T[], def?: T): T {
    const v = this.at(path);
    if (v === undefined && def !== undefined) return def;
    if (!choices.includes(v as T)) return this.bad(path, `one of ${choices.join('|')}`, v) ?? def ?? choices[0];
    return v as T;
  }

  stringList(path: string, def?: string[]): string[] {
    const v = this.at(path);
    if (v === undefined && def !== undefined) return def;
    if (!Array.isArray(v) || !v.every((s) => typeof s === 'string' && s.length > 0)) {
      return this.bad(path, 'a list of non-empty strings', v) ?? [];
    }
    return v as string[];
  }

  // Items of a list of objects, each read through a Fields scoped to `path.N`.
  list<T>(path: string, read: (item: Fields, itemPath: string) => T, opts: { min?: number } = {}): T[] {
    const v = this.at(path);
    if (!Array.isArray(v) || v.length < (opts.min ?? 0)) {
      this.bad(path, `a list with at least ${opts.min ?? 0} entries`, v);
      return [];
    }
    return v.map((_, i) => read(this, `${path}.${i}`));
  }
}
