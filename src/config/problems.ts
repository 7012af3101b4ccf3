// The problems one config validation found, capped: a hostile or generated config with half a million
// bad entries gets the first MAX_PROBLEMS lines, quickly, not megabytes (issue 10 part I).
export const MAX_PROBLEMS = 50;
// how much of a bad value a problem line quotes
const MAX_SHOWN = 80;

export class Problems {
  private readonly lines: string[] = [];
  private more = false;

  constructor(private readonly cap = MAX_PROBLEMS) {}

  // Readers stop walking lists and keys once this is true.
  get full(): boolean {
    return this.lines.length >= this.cap;
  }

  get count(): number {
    return this.lines.length;
  }

  add(line: string): void {
    if (this.full) this.more = true;
    else this.lines.push(line);
  }

  // "N invalid field(s):" or, past the cap, "more than N invalid fields (the first N):", then one per line.
  summary(): string {
    const head = this.more || this.full ? `at least ${this.lines.length} invalid fields (stopped after the first ${this.cap})` : `${this.lines.length} invalid field(s)`;
    return `${head}:\n  - ${this.lines.join('\n  - ')}`;
  }
}

// A value as a problem line quotes it: JSON, cut short.
export function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  const json = JSON.stringify(v);
  return json.length > MAX_SHOWN ? `${json.slice(0, MAX_SHOWN)}… (${json.length} characters)` : json;
}
