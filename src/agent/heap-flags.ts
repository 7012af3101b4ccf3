import { setFlagsFromString } from 'node:v8';

// The agent is a long-lived idle daemon: its young generation (V8's new space) must not keep what the
// boot check's allocation burst grew it to. V8 doubles new space under allocation pressure (16 MiB per
// semi-space at most) and an idle process never shrinks it back: 32 MiB of new space, 6 MiB used, was
// ~12 MiB of RSS at READY=1. The growth factor is read at each grow, so unlike --max-semi-space-size it
// takes effect when set at run time (measured with `BENCH_ONLY="agent RSS" npm run bench`, docs/memory.md).
export function keepYoungGenerationSmall(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
}
