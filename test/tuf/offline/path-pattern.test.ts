import { DelegatedRole } from '@tufjs/models/dist/role.js';
import { expect } from 'chai';
import { createRequire } from 'node:module';
import { isTargetInPathPattern } from '../../../src/tuf/offline/path-pattern.js';
import { Rng } from '../../fuzz/mutator.js';

// tuf-js decides which delegated role may sign a target with minimatch, segment by segment; the offline
// verifier must decide the same. Seeded differential tests against minimatch and @tufjs/models.

// the minimatch @tufjs/models resolves (not a dependency of ours)
const require = createRequire(import.meta.url);
const { minimatch } = createRequire(require.resolve('@tufjs/models'))('minimatch') as { minimatch: (path: string, pattern: string) => boolean };

const SEGMENT_CHARS = ['a', 'b', '.', '.', '-', ' ', 'é', '\ud800', '\u{1f600}', '*', '?'];
const PATTERN_CHARS = ['a', 'b', '.', '*', '*', '?', '?', '-', 'é', '\ud800'];
const OTHER_SYNTAX = ['[ab]', '[!a]', '{a,b}', '{a,.b}', '!a', '!(a)', '+(a)', '@(a|b)', '?(a)', '*(a)', '\\*', '#a', 'a]', 'a}', 'a)', '[a-', 'a\\'];

const randomText = (rng: Rng, chars: readonly string[], max: number): string => Array.from({ length: rng.int(max + 1) }, () => rng.pick(chars)).join('');

function randomPattern(rng: Rng): string {
  const base = randomText(rng, PATTERN_CHARS, 5);
  if (!rng.chance(0.1)) return base;
  const at = rng.int(base.length + 1);
  return base.slice(0, at) + rng.pick(OTHER_SYNTAX) + base.slice(at);
}

describe('tuf/offline path patterns (the same matcher as tuf-js)', () => {
  it('matches one segment exactly as minimatch does, over 100,000 random segments and patterns', () => {
    let matched = 0;
    for (let i = 0; i < 100_000; i++) {
      const rng = new Rng(i + 1);
      const pattern = randomPattern(rng);
      const segment = rng.chance(0.3) ? pattern.replace(/[*?]/g, () => randomText(rng, SEGMENT_CHARS, 2)) : randomText(rng, SEGMENT_CHARS, 5);
      const expected = minimatch(segment, pattern);
      expect(isTargetInPathPattern(segment, pattern), `seed ${i + 1}: ${JSON.stringify(segment)} against ${JSON.stringify(pattern)}`).to.equal(expected);
      if (expected) matched++;
    }
    expect(matched, 'both outcomes are exercised').to.be.above(10_000);
  });

  it('the corner cases: dot files, `.` and `..`, empty segments, globstar, comments', () => {
    const cases: [string, string, boolean][] = [
      ['.hidden', '*', false],
      ['.hidden', '.*', true],
      ['.', '.*', false],
      ['..', '.?', false],
      ['', '*', false],
      ['', '**', true],
      ['', '', true],
      ['a.b', '*.*', true],
      ['#a', '#a', false],
      ['a', '[ab]', true],
    ];
    for (const [segment, pattern, expected] of cases) {
      expect(minimatch(segment, pattern), `minimatch ${segment} ${pattern}`).to.equal(expected);
      expect(isTargetInPathPattern(segment, pattern), `ours ${segment} ${pattern}`).to.equal(expected);
    }
  });

  it('matches whole target paths as @tufjs/models DelegatedRole.isDelegatedPath does', () => {
    for (let i = 0; i < 20_000; i++) {
      const rng = new Rng(7_000_000 + i);
      const depth = 1 + rng.int(3);
      const pattern = Array.from({ length: depth }, () => randomPattern(rng)).join('/');
      const target = Array.from({ length: depth + (rng.chance(0.2) ? rng.int(3) - 1 : 0) }, () => randomText(rng, SEGMENT_CHARS, 4)).join('/');
      const role = new DelegatedRole({ name: 'r', keyIDs: [], threshold: 1, terminating: false, paths: [pattern] });
      expect(isTargetInPathPattern(target, pattern), `${JSON.stringify(target)} against ${JSON.stringify(pattern)}`).to.equal(role.isDelegatedPath(target));
    }
  });
});
