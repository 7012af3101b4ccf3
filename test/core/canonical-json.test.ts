import { canonicalize as reference } from '@tufjs/canonical-json';
import { expect } from 'chai';
import { canonicalize } from '../../src/core/canonical-json.js';
import { Rng } from '../fuzz/mutator.js';

// Signatures in the field were made over @tufjs/canonical-json's output: ours must give the same
// string for every input, and refuse (TypeError) exactly what it refuses. A seeded differential test.

const CHARS = ['a', 'Z', '0', ' ', '\\', '"', '/', '\u0000', '\u0001', '\t', '\n', '\u001f', '\u007f', 'é', 'e\u0301', '☃', '\u{1f600}', '\ud800', '\udfff', '\ufeff', '\u2028'];
const KEYS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', '', '1', '10', '2', '-1', 'a', 'B', 'b', 'é', '\u{1f600}', '\uffff', '\ud800'];
const INTEGERS = [0, -0, 1, -1, 2 ** 31, 2 ** 53 - 1, 2 ** 53, 2 ** 53 + 2, -(2 ** 60), 1e21, 1e300, Number.MAX_VALUE, -Number.MAX_VALUE];
const REFUSED: unknown[] = [0.5, -1.25, Number.MIN_VALUE, NaN, Infinity, -Infinity, undefined, () => 1, Symbol('s'), 10n];

function randomString(rng: Rng): string {
  return Array.from({ length: rng.int(8) }, () => rng.pick(CHARS)).join('');
}

// Own properties only, defined as JSON.parse defines them (so `__proto__` is data, not the prototype).
function randomObject(rng: Rng, depth: number): Record<string, unknown> {
  const entries = Array.from({ length: rng.int(6) }, (): [string, unknown] => [rng.chance(0.5) ? rng.pick(KEYS) : randomString(rng), randomValue(rng, depth + 1)]);
  return Object.fromEntries(entries);
}

function randomValue(rng: Rng, depth = 0): unknown {
  const leaf = depth > 4 || rng.chance(0.4);
  switch (leaf ? rng.int(5) : 5 + rng.int(2)) {
    case 0:
      return randomString(rng);
    case 1:
      return rng.pick(INTEGERS);
    case 2:
      return rng.chance(0.5) ? rng.int(1000) - 500 : rng.pick([true, false, null]);
    case 3:
      return rng.chance(0.03) ? rng.pick(REFUSED) : randomString(rng);
    case 4:
      return rng.u32();
    case 5:
      return Array.from({ length: rng.int(5) }, () => randomValue(rng, depth + 1));
    default:
      return randomObject(rng, depth);
  }
}

// The outcome as a comparable value: the string, or the class of the error thrown.
function outcome(fn: (v: unknown) => string, value: unknown): string {
  try {
    return `ok ${fn(value)}`;
  } catch (err) {
    return `throws ${(err as Error).constructor.name}`;
  }
}

describe('core/canonical-json (the bytes every TUF and event signature covers)', () => {
  it('gives what @tufjs/canonical-json gives for 20,000 random nested values', () => {
    let refused = 0;
    for (let i = 0; i < 20_000; i++) {
      const value = randomValue(new Rng(i + 1));
      const expected = outcome(reference as (v: unknown) => string, value);
      expect(outcome(canonicalize, value), `seed ${i + 1}`).to.equal(expected);
      if (expected.startsWith('throws')) refused++;
    }
    expect(refused, 'some inputs hold a value both must refuse').to.be.above(100);
  });

  it('refuses with a TypeError what the reference refuses: floats, NaN, ±Infinity, undefined, functions, symbols, bigints', () => {
    for (const value of REFUSED) {
      expect(() => reference(value), String(value)).to.throw(TypeError);
      expect(() => canonicalize(value), String(value)).to.throw(TypeError);
      expect(() => canonicalize({ a: [1, { b: value }] }), String(value)).to.throw(TypeError);
    }
  });

  it('escapes only backslash and double quote, sorts keys by UTF-16 code units, keeps `__proto__` as a key', () => {
    const value = JSON.parse('{"b":"\\u0001\\"\\\\\\n","__proto__":1,"\\ud83d\\ude00":2,"\\uffff":3,"10":4,"2":5}') as unknown;
    expect(canonicalize(value)).to.equal('{"10":4,"2":5,"__proto__":1,"b":"\u0001\\"\\\\\n","\u{1f600}":2,"\uffff":3}');
    expect(canonicalize(value)).to.equal(reference(value));
  });

  it('writes odd inputs as the reference does: sparse arrays, boxed strings, typed arrays, dates, -0 and large integers', () => {
    // eslint-disable-next-line no-sparse-arrays
    for (const value of [[1, , 2], new String('ab'), Uint8Array.from([3, 1]), new Date(0), -0, 1e21, { x: new Map([[1, 2]]) }]) {
      expect(canonicalize(value), Object.prototype.toString.call(value)).to.equal(reference(value));
    }
  });
});
