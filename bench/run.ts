import { agentRssBench } from './agent-rss.js';
import { bootCheckBench } from './boot-check.js';
import { digestReadBench } from './digest-read.js';
import type { Bench, BenchResult } from './measure.js';
import { startupBench } from './startup.js';
import { tpmBench } from './tpm.js';
import { trustBench } from './trust.js';
import { telemetryBench } from './telemetry.js';
import { fleetLoadBench } from './fleet-load.js';
import { updateBench } from './update.js';
import { verifyCommandBench } from './verify-command.js';

// `npm run bench`: runs each benchmark module in turn and prints its rows. Add one line per module.
const BENCHES: readonly Bench[] = [
  startupBench,
  tpmBench,
  trustBench,
  digestReadBench,
  bootCheckBench,
  verifyCommandBench,
  telemetryBench,
  fleetLoadBench,
  updateBench,
  agentRssBench,
];

function row(r: BenchResult): string {
  return `  ${r.op.padEnd(44)} median ${r.medianMs.toFixed(3).padStart(8)} ms   p95 ${r.p95Ms.toFixed(3).padStart(8)} ms   n=${r.iterations}${r.note ? `   ${r.note}` : ''}`;
}

// BENCH_ONLY=<text>: only the modules whose name contains it (e.g. BENCH_ONLY=fleet).
const only = process.env.BENCH_ONLY;
for (const bench of BENCHES.filter((b) => only === undefined || b.name.includes(only))) {
  process.stdout.write(`${bench.name}\n`);
  for (const r of await bench.run()) process.stdout.write(`${row(r)}\n`);
}
