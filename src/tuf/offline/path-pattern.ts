// Delegation path patterns (spec §4.5 "paths") as tuf-js matches them: target and pattern split on
// '/', the same number of segments, each segment matched by minimatch(segment, patternSegment) with
// default options. Patterns of literals, `*` and `?` (all we publish, and all most repositories use) are
// matched here, with minimatch's rules for dot files and empty segments (test/tuf/offline/path-pattern
// .test.ts compares the two on random segments); any other glob syntax (classes, braces, extglobs,
// negation, escapes, comments) goes to minimatch itself, loaded only when such a pattern is met, so that
// a verify of ordinary metadata never loads it.

export function isTargetInPathPattern(target: string, pattern: string): boolean {
  const targetParts = target.split('/');
  const patternParts = pattern.split('/');
  if (patternParts.length !== targetParts.length) return false;
  return patternParts.every((part, i) => matchSegment(targetParts[i], part));
}

// Anything minimatch reads as more than `*`, `?` and literal characters.
const OTHER_SYNTAX = /[[\]{}()!+@\\]|^#/;
const MINIMATCH_MAX_PATTERN = 64 * 1024; // minimatch throws on longer patterns: let it

function matchSegment(segment: string, pattern: string): boolean {
  if (OTHER_SYNTAX.test(pattern) || pattern.length > MINIMATCH_MAX_PATTERN) return minimatch()(segment, pattern);
  if (!pattern.includes('*') && !pattern.includes('?')) return segment === pattern;
  if (pattern === '**') return segment === '' || !segment.startsWith('.'); // a globstar: zero segments too
  // a wildcard never matches `.` or `..`, nor, at the start of a pattern, a leading dot
  if (segment === '.' || segment === '..') return false;
  if ((pattern[0] === '*' || pattern[0] === '?') && segment.startsWith('.')) return false;
  if (/^\*+$/.test(pattern)) return segment.length > 0;
  return wildcard(segment, pattern);
}

// `*` any run of UTF-16 code units (possibly empty), `?` exactly one (as minimatch's regex, which has no
// `u` flag): the greedy matcher with one backtrack point, O(segment × pattern) at worst.
function wildcard(s: string, p: string): boolean {
  let si = 0;
  let pi = 0;
  let star = -1;
  let resume = 0;
  while (si < s.length) {
    if (pi < p.length && p[pi] === '*') {
      star = pi++;
      resume = si;
    } else if (pi < p.length && (p[pi] === '?' || p[pi] === s[si])) {
      pi++;
      si++;
    } else if (star >= 0) {
      pi = star + 1;
      si = ++resume;
    } else {
      return false;
    }
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}

type Minimatch = (path: string, pattern: string) => boolean;
let loaded: Minimatch | undefined;

// The minimatch @tufjs/models (and so tuf-js) uses, resolved from its location; node:module is loaded
// only here too.
function minimatch(): Minimatch {
  if (!loaded) {
    const { createRequire } = process.getBuiltinModule('node:module');
    const require = createRequire(import.meta.url);
    const fromModels = createRequire(require.resolve('@tufjs/models'));
    loaded = (fromModels('minimatch') as { minimatch: Minimatch }).minimatch;
  }
  return loaded;
}
