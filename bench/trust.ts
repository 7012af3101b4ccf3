import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSwtpm } from '../test/helpers/swtpm.js';
import { TpmClient } from '../src/tpm/client.js';
import { establishTrust } from '../src/trust/establish.js';
import { parsePcrSelection } from '../src/trust/pcr-selection.js';
import { provision } from '../src/trust/provision.js';
import { measure, type Bench, type BenchResult } from './measure.js';

const ROOT = new TextEncoder().encode(JSON.stringify({ signatures: [], signed: { _type: 'root', version: 1 } }));
const SHA = 'ab'.repeat(32);

// The full agent trust start-up (establishTrust: salted session, pin + attributes, files, cold unseal, floors, measurement PCR),
// plus the per-image and per-update trust operations, over a provisioned swtpm.
async function benchTrust(tpm: TpmClient, stateDir: string, iterations = 100): Promise<BenchResult[]> {
  const now = new Date('2026-06-01T00:00:00Z');
  const results = [
    await measure('provision (seal + 3 counters + pin + files)', 10, () =>
      provision({ tpm, stateDir, rootBytes: ROOT, hardwareId: 'bench', now, pcrs: parsePcrSelection('sha256:0,2,4,7'), force: true }),
    ),
  ];
  results.push(await measure('establishTrust: full agent trust start-up', iterations, () => establishTrust({ tpm, stateDir }), 'target < 20 ms'));
  const trust = await establishTrust({ tpm, stateDir });
  let floor = 0;
  results.push(
    await measure('raiseFloor securityVersion +1 (check + NV_Increment)', iterations, () => trust.raiseFloor('securityVersion', ++floor)),
    await measure('measure image (PCR_Extend + fsync log line)', iterations, () => trust.measure({ name: 'fw.bin', version: '1.0.0', sha256: SHA }, now)),
  );
  return results;
}

export const trustBench: Bench = {
  name: 'Trust anchors over swtpm (TCP loopback)',
  async run() {
    const swtpm = await startSwtpm();
    const stateDir = await mkdtemp(join(tmpdir(), 'edgeseal-bench-trust-'));
    try {
      const tpm = await TpmClient.open({ swtpm: swtpm.address });
      try {
        return await benchTrust(tpm, stateDir);
      } finally {
        await tpm.close();
      }
    } finally {
      await swtpm.stop();
      await rm(stateDir, { recursive: true, force: true });
    }
  },
};
