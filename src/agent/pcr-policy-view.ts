import type { PcrPolicyView } from '../core/gate.js';
import { readPolicies, revokedSet } from '../trust/pcr-authority.js';
import { trustPaths } from '../trust/state-files.js';
import type { Device } from './device.js';

// The gate's view of the signed PCR policies this device could unseal with after a boot-chain change:
// the verified documents by its authority for its PCR selection (trust dir and the promoted set's
// copy, which a refresh has just replaced), and the generations this TPM has revoked.
export async function pcrPolicyView(dev: Device): Promise<PcrPolicyView> {
  const { pcrAuthority, pin } = dev.trust;
  if (!pcrAuthority) return { sealedTo: 'pcr' };
  const paths = trustPaths(dev.config.stateDir);
  const docs = await readPolicies([paths.pcrPolicies, paths.cachedPcrPolicies], pcrAuthority, pin.policyPcrs);
  return { sealedTo: 'authority', cached: new Set(docs.map((d) => d.generation)), revoked: revokedSet(await dev.trust.readRevokedPcrPolicies()) };
}
