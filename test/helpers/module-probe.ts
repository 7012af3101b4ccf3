import { writeFileSync } from 'node:fs';
import { registerHooks } from 'node:module';
import { getHeapSpaceStatistics } from 'node:v8';

// Preloaded into a process under test (`node --import <this file>`): records every module it loads and,
// on SIGUSR2, writes them with V8's heap spaces to $MODULE_PROBE_OUT as JSON.
export interface ProbeReport {
  readonly modules: readonly string[]; // resolved URLs, in load order
  readonly heapSpaces: Readonly<Record<string, number>>; // space name → bytes V8 reserved for it
}

const loaded: string[] = [];
registerHooks({
  load(url, context, next) {
    loaded.push(url);
    return next(url, context);
  },
});
process.on('SIGUSR2', () => {
  const heapSpaces = Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, s.space_size]));
  const report: ProbeReport = { modules: loaded, heapSpaces };
  writeFileSync(process.env.MODULE_PROBE_OUT ?? 'module-probe.json', JSON.stringify(report));
});
