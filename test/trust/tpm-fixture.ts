import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TpmClient } from '../../src/tpm/client.js';
import { provision, type ProvisionResult } from '../../src/trust/provision.js';
import { parsePcrSelection } from '../../src/trust/pcr-selection.js';
import { startSwtpm, type Swtpm } from '../helpers/swtpm.js';

// One swtpm per suite, a client on it, and fresh provisioned state dirs on demand.
export interface TrustFixture {
  readonly swtpm: Swtpm;
  tpm: TpmClient;
  // stops swtpm and starts it on the same state: a reboot (NV kept, PCRs reset); reconnects the client
  reboot(): Promise<void>;
  close(): Promise<void>;
}

export const POLICY_PCRS = parsePcrSelection('sha256:0,2,4,7');
export const NOW = new Date('2026-06-01T12:00:00.000Z');

export function rootJson(version: number, marker = 'genuine'): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ signatures: [], signed: { _type: 'root', version, expires: '2030-01-01T00:00:00Z', marker } }));
}

export async function startTrustFixture(): Promise<TrustFixture> {
  const swtpm = await startSwtpm();
  const fixture: TrustFixture = {
    swtpm,
    tpm: await TpmClient.open({ swtpm: swtpm.address }),
    async reboot() {
      await fixture.tpm.close();
      await swtpm.restart();
      fixture.tpm = await TpmClient.open({ swtpm: swtpm.address });
    },
    async close() {
      await fixture.tpm.close();
      await swtpm.stop();
    },
  };
  return fixture;
}

// Provisions into a new temp state dir (force: each test starts from its own anchors).
export async function provisionFresh(tpm: TpmClient, root = rootJson(1)): Promise<ProvisionResult & { stateDir: string }> {
  const stateDir = await mkdtemp(join(tmpdir(), 'edgeseal-trust-'));
  const result = await provision({ tpm, stateDir, rootBytes: root, hardwareId: 'board-a', now: NOW, pcrs: POLICY_PCRS, force: true });
  return { ...result, stateDir };
}
