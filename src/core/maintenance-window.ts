import { EdgesealError } from './errors.js';

// Maintenance windows in UTC: "HH:MM-HH:MM" every day, or with days first: "Mon-Fri 02:00-04:00",
// "Sat,Sun 22:00-02:00". The end is exclusive; an end before the start runs past midnight and belongs
// to the day it starts on; "24:00" as an end means midnight.
export interface MaintenanceWindow {
  readonly days: readonly number[]; // 0 = Sunday … 6 = Saturday (Date.getUTCDay)
  readonly startMinute: number;
  readonly endMinute: number;
}

const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
const ALL_DAYS = [0, 1, 2, 3, 4, 5, 6] as const;
const SPEC = /^(?:([A-Za-z,-]+)\s+)?(\d\d):(\d\d)-(\d\d):(\d\d)$/;

function dayIndex(name: string): number {
  return DAY_NAMES.indexOf(name.toLowerCase() as (typeof DAY_NAMES)[number]);
}

// "Mon-Fri", "Sat,Sun", "Fri-Mon" (wraps the week) → day indexes; undefined if any part is not a day.
function parseDays(text: string): number[] | undefined {
  const days = new Set<number>();
  for (const part of text.split(',')) {
    const [from, to, extra] = part.split('-');
    const a = dayIndex(from);
    const b = to === undefined ? a : dayIndex(to);
    if (a < 0 || b < 0 || extra !== undefined) return undefined;
    for (let d = a; ; d = (d + 1) % 7) {
      days.add(d);
      if (d === b) break;
    }
  }
  return [...days].sort((x, y) => x - y);
}

function minuteOf(hh: string | undefined, mm: string | undefined, allowMidnightEnd: boolean): number | undefined {
  const h = Number(hh);
  const m = Number(mm);
  if (m > 59 || h > 24 || (h === 24 && (m !== 0 || !allowMidnightEnd))) return undefined;
  return h * 60 + m;
}

function parseOne(spec: string): MaintenanceWindow | string {
  const m = SPEC.exec(spec.trim());
  if (!m) return `${JSON.stringify(spec)}: expected "HH:MM-HH:MM" or "Mon-Fri HH:MM-HH:MM" (UTC)`;
  const days = m[1] === undefined ? [...ALL_DAYS] : parseDays(m[1]);
  if (!days) return `${JSON.stringify(spec)}: expected day names like Mon-Fri or Sat,Sun, found ${JSON.stringify(m[1])}`;
  const startMinute = minuteOf(m[2], m[3], false);
  const endMinute = minuteOf(m[4], m[5], true);
  if (startMinute === undefined || endMinute === undefined) return `${JSON.stringify(spec)}: expected times between 00:00 and 24:00`;
  if (startMinute === endMinute) return `${JSON.stringify(spec)}: expected a start different from the end (an empty window never opens)`;
  return { days, startMinute, endMinute };
}

// Parses every spec, collecting all bad ones before throwing once (config validation reports them all).
export function parseMaintenanceWindows(specs: readonly string[]): MaintenanceWindow[] {
  const parsed = specs.map(parseOne);
  const problems = parsed.filter((p): p is string => typeof p === 'string');
  if (problems.length) throw new EdgesealError('CONFIG_INVALID', `invalid maintenance windows: ${problems.join('; ')}`);
  return parsed as MaintenanceWindow[];
}

// True when `now` falls inside any window; no windows configured means updates may run at any time.
export function inMaintenanceWindow(windows: readonly MaintenanceWindow[], now: Date): boolean {
  if (windows.length === 0) return true;
  const minute = now.getUTCHours() * 60 + now.getUTCMinutes() + now.getUTCSeconds() / 60;
  const today = now.getUTCDay();
  const yesterday = (today + 6) % 7;
  return windows.some((w) => {
    if (w.startMinute < w.endMinute) return w.days.includes(today) && minute >= w.startMinute && minute < w.endMinute;
    return (w.days.includes(today) && minute >= w.startMinute) || (w.days.includes(yesterday) && minute < w.endMinute);
  });
}

// Human text for refusals and status: "Mon-Fri 02:00-04:00 UTC".
export function describeWindow(w: MaintenanceWindow): string {
  const hhmm = (min: number): string => `${String(Math.floor(min / 60)).padStart(2, '0')}:${String(min % 60).padStart(2, '0')}`;
  const days = w.days.length === 7 ? 'daily' : w.days.map((d) => DAY_NAMES[d]).join(',');
  return `${days} ${hhmm(w.startMinute)}-${hhmm(w.endMinute)} UTC`;
}
