import { expect } from 'chai';
import { EdgesealError } from '../../src/core/errors.js';
import { Rng } from './mutator.js';

// A seeded, bounded fuzz loop. The only accepted outcomes for each input are a value or a coded
// EdgesealError (never INTERNAL, never a TypeError/RangeError), within a time and a memory bound.
// CI runs each parser's default count; `npm run fuzz` runs long campaigns:
//   EDGESEAL_FUZZ_ITERATIONS=200000 EDGESEAL_FUZZ_SEED=7 npm run fuzz

const PER_INPUT_MS = 2_000; // a parser that needs longer for one small input is looping
const RSS_GROWTH = 512 * 1024 ** 2; // a parser that needs more is allocating without a bound

export const FUZZ_SEED = Number(process.env.EDGESEAL_FUZZ_SEED ?? 1);

export function iterations(ciDefault: number): number {
  const n = Number(process.env.EDGESEAL_FUZZ_ITERATIONS);
  return Number.isSafeInteger(n) && n > 0 ? n : ciDefault;
}

export interface FuzzReport {
  readonly values: number;
  readonly codes: ReadonlyMap<string, number>;
}

// Runs `count` inputs: input 0 is `generate`'s unmutated seed (it must be accepted), the rest mutated.
export async function fuzz<I>(opts: {
  name: string;
  count: number;
  generate: (rng: Rng, i: number) => I;
  run: (input: I) => unknown;
  describe?: (input: I) => string;
}): Promise<FuzzReport> {
  const codes = new Map<string, number>();
  let values = 0;
  const baseline = process.memoryUsage().rss;
  for (let i = 0; i < opts.count; i++) {
    const rng = new Rng(FUZZ_SEED * 1_000_003 + i);
    const input = opts.generate(rng, i);
    const where = (): string => `${opts.name} seed ${FUZZ_SEED} input ${i}: ${(opts.describe ?? defaultDescribe)(input).slice(0, 300)}`;
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      Promise.resolve()
        .then(() => opts.run(input))
        .then(
          () => 'value',
          (err: unknown) => err,
        ),
      new Promise((resolve) => (timer = setTimeout(() => resolve(new Error(`no outcome within ${PER_INPUT_MS} ms`)), PER_INPUT_MS))),
    ]).finally(() => clearTimeout(timer));
    const took = performance.now() - started;
    if (outcome === 'value') values++;
    else if (outcome instanceof EdgesealError && outcome.code !== 'INTERNAL') codes.set(outcome.code, (codes.get(outcome.code) ?? 0) + 1);
    else expect.fail(`${where()}\n  → ${outcome instanceof Error ? (outcome.stack ?? outcome.message) : String(outcome)}`);
    if (i === 0) expect(outcome, `${where()}: the unmutated seed input must be accepted`).to.equal('value');
    expect(took, `${where()}: took ${took.toFixed(0)} ms`).to.be.below(PER_INPUT_MS);
    if (i % 256 === 0) expect(process.memoryUsage().rss - baseline, `${where()}: resident memory grew`).to.be.below(RSS_GROWTH);
  }
  return { values, codes };
}

function defaultDescribe(input: unknown): string {
  if (input instanceof Uint8Array) return Buffer.from(input.subarray(0, 150)).toString('hex');
  if (typeof input === 'string') return JSON.stringify(input);
  try {
    return JSON.stringify(input) ?? String(input);
  } catch {
    return String(input);
  }
}
