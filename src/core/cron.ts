import { EdgesealError } from './errors.js';

// Cron expressions, parsed and matched by us rather than node-cron: node-cron computes local time with
// Intl.DateTimeFormat, which pulls ~9 MiB of ICU data and code into every agent (docs/memory.md). Date's
// own local-time getters need none of that. The syntax is the one node-cron accepted for our configs:
// 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first; each field a list of
// `*`, `?`, `N`, `A-B`, with an optional `/STEP`; month and weekday names (jan, mon…); 7 is Sunday too.
// As in node-cron, a time matches when every field matches (day-of-month AND day-of-week).

interface Field {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[]; // index + min is the value
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const FIELDS: readonly Field[] = [
  { name: 'second', min: 0, max: 59 },
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS },
  { name: 'day of week', min: 0, max: 7, names: WEEKDAYS },
];
// A schedule that matches nothing within this many days (e.g. 30 February) has no next run.
const SEARCH_DAYS = 366 * 8;

export interface CronSchedule {
  readonly expression: string;
  // The first matching local time strictly after `after` (whole seconds), or null if none comes.
  next(after: Date): Date | null;
}

function value(text: string, f: Field): number {
  const named = f.names?.indexOf(text.toLowerCase()) ?? -1;
  if (named >= 0) return named + f.min;
  if (!/^\d{1,2}$/.test(text)) throw new Error(`${f.name}: expected a number${f.names ? ' or a name' : ''}, found ${JSON.stringify(text)}`);
  const n = Number(text);
  if (n < f.min || n > f.max) throw new Error(`${f.name}: expected ${f.min}-${f.max}, found ${n}`);
  return n;
}

function parseField(text: string, f: Field): ReadonlySet<number> {
  const out = new Set<number>();
  for (const item of text.split(',')) {
    const [range, stepText, extra] = item.split('/');
    if (extra !== undefined || range === '') throw new Error(`${f.name}: expected N, A-B, * or ?, each with an optional /STEP, found ${JSON.stringify(item)}`);
    const step = stepText === undefined ? 1 : Number(/^\d{1,2}$/.test(stepText) ? stepText : NaN);
    if (!(step >= 1)) throw new Error(`${f.name}: expected a step of 1 or more, found ${JSON.stringify(stepText)}`);
    let lo: number;
    let hi: number;
    if (range === '*' || range === '?') [lo, hi] = [f.min, f.names === WEEKDAYS ? 6 : f.max];
    else {
      const [a, b, more] = range.split('-');
      if (more !== undefined) throw new Error(`${f.name}: expected a range A-B, found ${JSON.stringify(range)}`);
      lo = value(a, f);
      hi = b === undefined ? (stepText === undefined ? lo : f.max) : value(b, f);
      if (hi < lo) throw new Error(`${f.name}: expected a range from low to high, found ${JSON.stringify(range)}`);
    }
    for (let v = lo; v <= hi; v += step) out.add(f.names === WEEKDAYS && v === 7 ? 0 : v);
  }
  return out;
}

function parseFields(expression: string): ReadonlySet<number>[] {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== 5 && parts.length !== 6) throw new Error(`expected 5 fields (minute hour day month weekday) or 6 (seconds first), found ${parts.length}`);
  return (parts.length === 5 ? ['0', ...parts] : parts).map((t, i) => parseField(t, FIELDS[i]));
}

// For config validation: why `expression` is not a cron expression, or undefined when it is one.
export function cronProblem(expression: string): string | undefined {
  try {
    parseFields(expression);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

// Parses `expression`; CONFIG_INVALID naming the field at fault otherwise.
export function parseCron(expression: string): CronSchedule {
  let sets: ReadonlySet<number>[];
  try {
    sets = parseFields(expression);
  } catch (err) {
    throw new EdgesealError('CONFIG_INVALID', `cron expression ${JSON.stringify(expression)}: ${(err as Error).message}`, { cause: err });
  }
  const [seconds, minutes, hours, days, months, weekdays] = sets;
  const sorted = (s: ReadonlySet<number>): number[] => [...s].sort((a, b) => a - b);
  const [secs, mins, hrs] = [sorted(seconds), sorted(minutes), sorted(hours)];
  return {
    expression,
    next(after: Date): Date | null {
      const from = Math.floor(after.getTime() / 1000) * 1000;
      const day = new Date(from);
      day.setHours(0, 0, 0, 0);
      for (let i = 0; i < SEARCH_DAYS; i++, day.setDate(day.getDate() + 1)) {
        if (!months.has(day.getMonth() + 1) || !days.has(day.getDate()) || !weekdays.has(day.getDay())) continue;
        const at = (h: number, m: number, s: number): Date => new Date(day.getFullYear(), day.getMonth(), day.getDate(), h, m, s);
        for (const h of hrs) {
          if (at(h, 59, 59).getTime() <= from) continue; // this hour is already over
          for (const m of mins) {
            if (at(h, m, 59).getTime() <= from) continue;
            for (const s of secs) {
              const t = at(h, m, s);
              // a local time a DST change skips does not exist: Date moves it, and it is not a match
              if (t.getTime() > from && t.getHours() === h && t.getMinutes() === m) return t;
            }
          }
        }
      }
      return null;
    },
  };
}
