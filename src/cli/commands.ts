import type { Command } from './command.js';

// One entry per sub-command, in the order `edgeseal --help` lists them. Each module is imported only
// when its command runs, so `--help`, `--version` and a one-shot `verify` load nothing they do not use.
export interface CommandEntry {
  readonly name: string;
  readonly summary: string;
  load(): Promise<Command>;
}

export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'verify',
    summary: 'verify an installed image file against locally trusted TUF metadata (offline)',
    load: async () => (await import('./verify.js')).verifyCommand,
  },
  {
    name: 'tuf-client',
    summary: 'TUF client speaking the tuf-conformance client-under-test protocol (same updater as the agent)',
    load: async () => (await import('./tuf-client.js')).tufClientCommand,
  },
  {
    name: 'provision',
    summary: 'anchor this device in its TPM: seal the initial root digest and report key, pin them in NV, create the floors',
    load: async () => (await import('./provision.js')).provisionCommand,
  },
  { name: 'reseal', summary: 'move the sealed anchor to a PCR-policy authority (same report key, floors untouched)', load: async () => (await import('./reseal.js')).resealCommand },
  {
    name: 'tpm status',
    summary: 'show the TPM, the policy PCRs, NV indices, floors, and whether the trust anchors unseal right now',
    load: async () => (await import('./tpm-status.js')).tpmStatusCommand,
  },
  {
    name: 'repo init',
    summary: 'create a TUF repository: ed25519 keys per role, thresholds, expiry periods',
    load: async () => (await import('./repo-init.js')).repoInit,
  },
  {
    name: 'repo add-target',
    summary: 'add (or replace) an image as a target with the custom fields devices gate on',
    load: async () => (await import('./repo-add-target.js')).repoAddTarget,
  },
  {
    name: 'repo remove-target',
    summary: 'remove a target from its role (devices stop seeing it after the next publish)',
    load: async () => (await import('./repo-remove-target.js')).repoRemoveTarget,
  },
  {
    name: 'repo delegate',
    summary: 'delegate target path patterns to a new role (e.g. a trusted builder) with its own keys',
    load: async () => (await import('./repo-delegate.js')).repoDelegate,
  },
  { name: 'repo rollout', summary: 'stage a signed rollout of a target: percentage, steps over time, canary ring, halt/resume', load: async () => (await import('./repo-rollout.js')).repoRollout },
  {
    name: 'repo sign',
    summary: 'sign every changed role with a new version (root, targets roles, then snapshot and timestamp)',
    load: async () => (await import('./repo-sign.js')).repoSign,
  },
  {
    name: 'repo pcr-policy',
    summary: 'create the PCR-policy authority key, or sign the PCR values of a boot chain (TPM2_PolicyAuthorize)',
    load: async () => (await import('./repo-pcr-policy.js')).repoPcrPolicy,
  },
  {
    name: 'repo publish',
    summary: 'sign pending changes and write the repository to a directory to serve over HTTP or copy to USB',
    load: async () => (await import('./repo-publish.js')).repoPublish,
  },
  {
    name: 'repo rotate-key',
    summary: "replace a role's keys (root rotation writes N+1.root.json signed by the old and the new root keys)",
    load: async () => (await import('./repo-rotate-key.js')).repoRotateKey,
  },
  {
    name: 'repo status',
    summary: "each role's version, expiry (and how soon), threshold, key ids, unsigned changes",
    load: async () => (await import('./repo-status.js')).repoStatusCommand,
  },
  {
    name: 'repo signer',
    summary: 'register a key held in a PKCS#11 token or by an external signer command (writes a signer reference)',
    load: async () => (await import('./repo-signer.js')).repoSigner,
  },
  {
    name: 'repo refresh',
    summary: 're-sign timestamp (and snapshot when due) with the online keys and publish; run by edgeseal-repo-refresh.timer',
    load: async () => (await import('./repo-refresh.js')).repoRefresh,
  },
  {
    name: 'repo ceremony',
    summary: 'signing ceremonies: prepare a pending version, add signatures one signer at a time (workdir or bundle), export/import bundles',
    load: async () => (await import('./repo-ceremony.js')).repoCeremony,
  },
  {
    name: 'repo revoke',
    summary: 'add a revocation (key id, image digest, minimum version) to the signed revocation list',
    load: async () => (await import('./repo-revoke.js')).repoRevoke,
  },
  {
    name: 'repo revocations',
    summary: 'show the revocation list the repository holds (entries, version, expiry, whether it is signed yet)',
    load: async () => (await import('./revocations-list.js')).repoRevocations,
  },
  {
    name: 'revocations status',
    summary: "show the device's cached revocation list: version, age, freshness and what it means for boot and updates",
    load: async () => (await import('./revocations-status.js')).revocationsStatus,
  },
  {
    name: 'revocations refresh',
    summary: 'fetch the signed revocation list through TUF now, verify it, replace the cache and raise the TPM floor',
    load: async () => (await import('./revocations-refresh.js')).revocationsRefresh,
  },
  {
    name: 'agent',
    summary: 'run the device agent: TPM trust, boot check, READY=1, scheduled updates and revocation refresh, telemetry',
    load: async () => (await import('./agent.js')).agentCommand,
  },
  {
    name: 'boot-check',
    summary: 'verify every installed image once against the TPM-anchored TUF metadata, then exit (oneshot unit, initramfs hook)',
    load: async () => (await import('./boot-check.js')).bootCheckCommand,
  },
  { name: 'systemd-units', summary: 'write the systemd drop-ins that allow exactly the TPM, slots, boot selector and state dir this config needs', load: async () => (await import('./systemd-units.js')).systemdUnitsCommand },
  {
    name: 'update',
    summary: 'check for, gate, download, verify and stage an update into the inactive slot (trial boot armed)',
    load: async () => (await import('./update.js')).updateCommand,
  },
  { name: 'mark-good', summary: 'commit the booted trial slot (integrator-decided health): good slot, then the TPM floor', load: async () => (await import('./mark.js')).markGoodCommand },
  { name: 'mark-bad', summary: 'roll the booted trial slot back to the known-good slot (rollback event with --reason)', load: async () => (await import('./mark.js')).markBadCommand },
  { name: 'mark-active', summary: 'boot SLOT (A|B|booted|other) from the next boot on, only if it verifies now', load: async () => (await import('./mark.js')).markActiveCommand },
  {
    name: 'status',
    summary: 'show installed images and versions per slot, last verdicts, TPM floors and next scheduled runs (no daemon needed)',
    load: async () => (await import('./status.js')).statusCommand,
  },
  {
    name: 'config check',
    summary: 'validate the agent config and report every bad field at once',
    load: async () => (await import('./config-check.js')).configCheckCommand,
  },
  {
    name: 'config schema',
    summary: 'print the agent config JSON Schema (draft 2020-12)',
    load: async () => (await import('./config-schema.js')).configSchemaCommand,
  },
  {
    name: 'telemetry tail',
    summary: "follow a fleet's telemetry (status, signed events, metrics) from an MQTT broker",
    load: async () => (await import('./telemetry-tail.js')).telemetryTailCommand,
  },
  {
    name: 'telemetry verify',
    summary: 'check the device signatures on telemetry events (exit 1 if any is forged or malformed)',
    load: async () => (await import('./telemetry-verify.js')).telemetryVerifyCommand,
  },
  {
    name: 'demo',
    summary: 'first run: provision a software TPM, boot-check, update A → B, commit, refuse a tampered and a revoked update (under a minute)',
    load: async () => (await import('./demo.js')).demoCommand,
  },
  {
    name: 'cache repair',
    summary: 'rebuild the promoted TUF metadata set from the TPM-pinned root and a repository (rescue shell)',
    load: async () => (await import('./cache-repair.js')).cacheRepair,
  },
  {
    name: 'fleet enroll',
    summary: 'register device report keys in the fleet registry (device.json, a directory of them, or stdin JSON lines)',
    load: async () => (await import('./fleet-enroll.js')).fleetEnrollCommand,
  },
  {
    name: 'fleet serve',
    summary: 'run the fleet collector: verify and store every signed device event, then acknowledge it',
    load: async () => (await import('./fleet-serve.js')).fleetServeCommand,
  },
  {
    name: 'fleet export',
    summary: 'write the raw signed events of a device, fleet or time range as JSON lines, and the key registry',
    load: async () => (await import('./fleet-export.js')).fleetExportCommand,
  },
];
