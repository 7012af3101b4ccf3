// Runs one `reseal` in its own process, SIGKILLing itself right after the named step (RESEAL_STEPS in
// src/trust/reseal.ts). Used by reseal.test.ts.
//   node reseal-child.js '{"swtpm": "127.0.0.1:2321", "stateDir": "/…", "authority": {"x": "…", "y": "…"}, "killAt": "recorded"}'
import { TpmClient } from '../../src/tpm/client.js';
import { reseal } from '../../src/trust/reseal.js';

const args = JSON.parse(process.argv[2] ?? '{}') as { swtpm: string; stateDir: string; authority: { x: string; y: string }; killAt: string };
const tpm = await TpmClient.open({ swtpm: args.swtpm });
const pcrAuthority = { x: new Uint8Array(Buffer.from(args.authority.x, 'hex')), y: new Uint8Array(Buffer.from(args.authority.y, 'hex')) };
await reseal({
  tpm,
  stateDir: args.stateDir,
  pcrAuthority,
  step: (s) => {
    if (s === args.killAt) process.kill(process.pid, 'SIGKILL');
  },
});
await tpm.close();
process.stdout.write('done');
