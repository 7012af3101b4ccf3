// Runs one refresh-and-promote of a board in its own process, SIGKILLing itself right after the named
// step (src/tuf/cache/generations.ts CACHE_STEPS). Used by metadata-cache-crash.test.ts.
//   node refresh-child.js '{"config": "/…/config.json", "from": "/…/repo", "killAt": "linked"}'
import { loadConfig } from '../../src/agent/config-file.js';
import { openDevice } from '../../src/agent/device.js';
import { refreshMetadata } from '../../src/agent/metadata-refresh.js';
import { createLogger } from '../../src/log/logger.js';

const args = JSON.parse(process.argv[2] ?? '{}') as { config: string; from: string; killAt: string };
const dev = await openDevice({ config: await loadConfig(args.config), logger: createLogger({ silent: true }), telemetry: 'off' });
await refreshMetadata(dev, args.from, {
  step: (s) => {
    if (s === args.killAt) process.kill(process.pid, 'SIGKILL');
  },
});
await dev.close();
process.stdout.write('done');
