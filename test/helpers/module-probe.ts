import { writeFileSync } from 'node:fs';
import { createRequire, registerHooks } from 'node:module';
import { getHeapSpaceStatistics } from 'node:v8';

// Preloaded into a process under test (`node --import <this file>`): records every module it loads and
// every use of Intl (which maps ICU's locale data and code into the process), and on SIGUSR2 writes them
// with V8's heap spaces to $MODULE_PROBE_OUT as JSON.
export interface ProbeReport {
  readonly modules: readonly string[]; // resolved URLs, in load order
  readonly intl: readonly string[]; // 'Intl.DateTimeFormat', 'String.prototype.localeCompare'…, one per use
  readonly heapSpaces: Readonly<Record<string, number>>; // space name → bytes V8 reserved for it
  readonly packetIdBuffers: number; // Buffers in mqtt-packet's packet-id cache (the copy mqtt.js loads)
}

const intl: string[] = [];
for (const name of Object.getOwnPropertyNames(Intl) as (keyof typeof Intl)[]) {
  const C = Intl[name] as unknown;
  if (typeof C !== 'function') continue;
  const handler: ProxyHandler<(...a: unknown[]) => unknown> = {
    construct: (target, args): object => (intl.push(`Intl.${name}`), Reflect.construct(target, args) as object),
    apply: (target, self, args): unknown => (intl.push(`Intl.${name}`), Reflect.apply(target, self, args)),
  };
  Object.defineProperty(Intl, name, { value: new Proxy(C as (...a: unknown[]) => unknown, handler) });
}
for (const [proto, name] of [[String.prototype, 'localeCompare'], [String.prototype, 'normalize'], [Number.prototype, 'toLocaleString'], [Date.prototype, 'toLocaleString']] as const) {
  const original = Object.getOwnPropertyDescriptor(proto, name)?.value as (...a: unknown[]) => unknown;
  const counted = function (this: unknown, ...args: unknown[]): unknown {
    intl.push(`${proto.constructor.name}.prototype.${name}`);
    return original.apply(this, args);
  };
  Object.defineProperty(proto, name, { value: counted });
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
  const mqttRequire = createRequire(createRequire(import.meta.url).resolve('mqtt'));
  const packetIdBuffers = Object.keys((mqttRequire('mqtt-packet/numbers.js') as { cache: object }).cache).length;
  const report: ProbeReport = { modules: loaded, intl, heapSpaces, packetIdBuffers };
  writeFileSync(process.env.MODULE_PROBE_OUT ?? 'module-probe.json', JSON.stringify(report));
});
