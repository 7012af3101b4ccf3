import { setFlagsFromString } from 'node:v8';

// V8 flags for the agent process, a long-lived daemon that idles between rare jobs: memory held for
// good weighs more than a few milliseconds of CPU. Set at run time; each is a flag V8 reads at every
// decision, so it takes effect from then on. Measured with the agent RSS bench row
// (`BENCH_ONLY="agent RSS" npm run bench`); docs/memory.md has the figures.

// Before the daemon's modules load.
export const AGENT_V8_FLAGS = [
  // New space stays at its start-up size. V8 doubles it under allocation pressure (up to 16 MiB per
  // semi-space) and an idle process never shrinks it back: 32 MiB reserved for 6 MiB used, ~12 MiB RSS.
  '--semi-space-growth-factor=1',
  // No optimizing compilers (TurboFan, Maglev): Ignition and Sparkplug run everything. The compilers'
  // code in the node binary and their zones are ~8.5 MiB of RSS once they have run; the agent's hot
  // work (hashing, signatures, TPM crypto) is native, so it costs ~60 ms of CPU until READY and nothing
  // measurable in an update run.
  '--no-turbofan',
  '--no-maglev',
] as const;

// Once the agent is ready. V8's memory reducer judges the allocation rate from the last GC (start-up's,
// high), so in an idle agent it never runs; told to favour memory it compacts the heap at its next
// 8 s tick, and again after each busy spell (~2 MiB). Set from the start it cost ~80 ms of start-up CPU.
export const AGENT_IDLE_V8_FLAGS = ['--optimize-for-size'] as const;

export function applyAgentV8Flags(flags: readonly string[] = AGENT_V8_FLAGS): void {
  for (const flag of flags) setFlagsFromString(flag);
}
