import { createHash } from 'node:crypto';
import { startSwtpm } from '../test/helpers/swtpm.js';
import { TpmClient } from '../src/tpm/client.js';
import type { PcrSelection } from '../src/tpm/pcr.js';
import { measure, type Bench, type BenchResult } from './measure.js';

const POLICY: PcrSelection = { hash: 'sha256', pcrs: [0, 2, 4, 7] };
const PIN = 0x01500300;
const COUNTERS = [0x01500301, 0x01500302];

// Median latency of the TPM operations the agent uses, over an already running TPM.
export async function benchTpmOps(tpm: TpmClient, iterations = 200): Promise<BenchResult[]> {
  const digest = new Uint8Array(createHash('sha256').update('bench').digest());
  await tpm.nvDefineSpace({ index: PIN, type: 'ordinary', attributes: ['OWNERWRITE', 'AUTHREAD', 'OWNERREAD', 'WRITEDEFINE', 'NO_DA'], dataSize: 32 });
  for (const c of COUNTERS) {
    await tpm.nvDefineSpace({ index: c, type: 'counter', attributes: ['AUTHWRITE', 'AUTHREAD', 'NO_DA'], dataSize: 8 });
    await tpm.nvIncrement(c);
  }
  await tpm.nvWrite(PIN, digest, 0, { handle: 0x40000001, auth: { kind: 'password' } });
  const sealed = await tpm.sealToPcrs(digest, POLICY);
  const cold = Math.max(20, Math.floor(iterations / 4));
  const results = [
    await measure('PCR_Read sha256:0,2,4,7', iterations, () => tpm.pcrRead(POLICY)),
    await measure('PCR_Extend sha256 PCR 23', iterations, () => tpm.pcrExtend(23, [{ hash: 'sha256', digest }])),
    await measure('NV_Read 32 bytes', iterations, () => tpm.nvRead(PIN, 32)),
    await measure('NV_Increment', iterations, () => tpm.nvIncrement(COUNTERS[0])),
  ];
  // warm: the sealed object stays loaded (swtpm holds only 3 transient objects, so flush before the cold rows)
  const primary = await tpm.createStoragePrimary();
  const item = await tpm.load(primary.handle, sealed);
  try {
    results.push(
      await measure('unseal: session + PolicyPCR + Unseal + flush', iterations, () =>
        tpm.withSession('policy', async (s) => {
          await tpm.policyPcr(s, POLICY);
          return tpm.unseal(item, { kind: 'policy', handle: s });
        }),
      ),
    );
  } finally {
    await tpm.flushContext(item.handle);
    await tpm.flushContext(primary.handle);
  }
  results.push(
    await measure('CreatePrimary ECC P-256 + flush', cold, async () => tpm.flushContext((await tpm.createStoragePrimary()).handle)),
    await measure('cold unseal: primary + Load + policy + Unseal', cold, () => tpm.unsealWithPcrs(sealed, POLICY)),
    await measure('trust start-up: cold unseal + pin + 2 floors', cold, async () => {
      await tpm.unsealWithPcrs(sealed, POLICY);
      await tpm.nvReadPublic(PIN);
      await tpm.nvRead(PIN, 32);
      for (const c of COUNTERS) {
        await tpm.nvReadPublic(c);
        await tpm.nvReadCounter(c);
      }
    }, 'target < 20 ms'),
  );
  return results;
}

// Starts a throwaway swtpm on loopback, benchmarks it over the TCP transport, and stops it.
export const tpmBench: Bench = {
  name: 'TPM over swtpm (TCP loopback)',
  async run() {
    const swtpm = await startSwtpm();
    try {
      const tpm = await TpmClient.open({ swtpm: swtpm.address });
      try {
        return await benchTpmOps(tpm);
      } finally {
        await tpm.close();
      }
    } finally {
      await swtpm.stop();
    }
  },
};
