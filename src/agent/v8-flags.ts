import { setFlagsFromString } from 'node:v8';

// V8 flags for the agent process, a long-lived daemon that idles between rare jobs: memory held for
// good weighs more than a few milliseconds of CPU. Set at run time, before the daemon's modules load;
// each flag is one V8 reads at every decision, so it takes effect then. Measured with the agent RSS
// bench row (`BENCH_ONLY="agent RSS" npm run bench`); docs/memory.md has the figures.
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

export function applyAgentV8Flags(): void {
  for (const flag of AGENT_V8_FLAGS) setFlagsFromString(flag);
}
