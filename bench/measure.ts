import { performance } from 'node:perf_hooks';

// One benchmark module: a name and a run that returns one row per measured operation.
export interface Bench {
  readonly name: string;
  run(): Promise<BenchResult[]>;
}

export interface BenchResult {
  readonly op: string;
  readonly iterations: number;
  readonly medianMs: number;
  readonly p95Ms: number;
  readonly note?: string;
}

// Times fn `iterations` times after a short warm-up and reports the median and 95th percentile.
export async function measure(op: string, iterations: number, fn: () => Promise<unknown>, note?: string): Promise<BenchResult> {
  for (let i = 0; i < Math.min(5, iterations); i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  const at = (q: number): number => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))];
  return { op, iterations, medianMs: at(0.5), p95Ms: at(0.95), note };
}
