import { EdgesealError } from '../core/errors.js';
import { TpmClient } from '../tpm/client.js';
import type { NvAuth } from '../tpm/nv.js';
import { DEFAULT_TPM_DEVICE, type TpmConfig } from '../tpm/transport.js';
import { DEFAULT_NV_INDICES, hex } from '../trust/nv-layout.js';
import { FLOOR_KINDS } from '../trust/nv-pin.js';
import { readOwnerAuthFile } from '../trust/owner-auth.js';
import { collectTrustStatus, type Outcome, type PcrPolicyStatus, type TrustStatus } from '../trust/status.js';
import { EXIT, parseCommandArgs, type CliIo, type Command } from './command.js';

const NAME = 'tpm status';
export const DEFAULT_STATE_DIR = '/var/lib/edgeseal';

// Options every TPM-facing command takes (shared with `edgeseal provision`).
export const TPM_OPTIONS = {
  'tpm-swtpm': { type: 'string' },
  'tpm-device': { type: 'string' },
  'state-dir': { type: 'string' },
  'owner-auth-file': { type: 'string' },
} as const;
export const TPM_USAGE = [
  `  --tpm-device PATH      TPM 2.0 character device (default ${DEFAULT_TPM_DEVICE}, the kernel resource manager)`,
  '  --tpm-swtpm HOST:PORT  a software TPM instead (swtpm socket --tpm2 …), e.g. 127.0.0.1:2321',
  `  --state-dir DIR        where the trust files live (default ${DEFAULT_STATE_DIR}; anchors in DIR/trust/)`,
  '  --owner-auth-file FILE the TPM owner hierarchy password (file bytes, one trailing newline dropped); default empty',
];

export function tpmConfigFrom(command: string, values: { 'tpm-swtpm'?: string; 'tpm-device'?: string }): TpmConfig {
  const { 'tpm-swtpm': swtpm, 'tpm-device': device } = values;
  if (swtpm !== undefined && device !== undefined) {
    throw new EdgesealError('USAGE', `${command}: expected one of --tpm-swtpm or --tpm-device, found both`);
  }
  return swtpm !== undefined ? { swtpm } : { device: device ?? DEFAULT_TPM_DEVICE };
}

// The owner password named by --owner-auth-file, read once; undefined means the empty password.
export function ownerAuthFrom(command: string, values: { 'owner-auth-file'?: string }): Promise<NvAuth | undefined> {
  const path = values['owner-auth-file'];
  return path === undefined ? Promise.resolve(undefined) : readOwnerAuthFile(path, `${command} --owner-auth-file`, 'USAGE');
}

// What to tell an operator whose TPM answered TPM_RC_BAD_AUTH for the owner hierarchy.
export function ownerAuthHint(ownerAuthFile: string | undefined): string {
  return ownerAuthFile ? `the password in ${ownerAuthFile} is not the TPM owner password` : 'the TPM owner hierarchy has a password: pass it with --owner-auth-file FILE';
}

// Opens the TPM, runs fn, and always closes the connection (swtpm serves one client at a time).
export async function withTpm<T>(config: TpmConfig, fn: (tpm: TpmClient) => Promise<T>): Promise<T> {
  const tpm = await TpmClient.open(config);
  try {
    return await fn(tpm);
  } finally {
    await tpm.close();
  }
}

function line<T>(label: string, o: Outcome<T>, show: (v: T) => string, hint?: string): string {
  const why = !o.ok && hint && o.message.includes('TPM_RC_BAD_AUTH') ? `; ${hint}` : '';
  return `${label.padEnd(12)}${o.ok ? show(o.value) : `unavailable [${o.code}] ${o.message}${why}`}`;
}

function describePcrPolicy(p: PcrPolicyStatus | undefined): string {
  if (!p) return 'plain PolicyPCR (no PCR-policy authority: a boot-chain change needs edgeseal reseal)';
  const now = p.generation === undefined ? 'no signed policy opens the anchor now' : `generation ${p.generation} opens the anchor now`;
  const committed = p.committed === undefined ? 'none committed after a boot-chain change yet' : `committed generation ${p.committed} (${p.revoked.join(', ')} revoked)`;
  return `authority ${p.authorityName}; ${now}; ${committed}`;
}

function describe(s: TrustStatus, authHint: string): string[] {
  return [
    `transport   ${s.transport}`,
    line('tpm', s.tpm, (t) => `${t.manufacturer} ${t.vendor} (TPM ${t.revision}, firmware ${t.firmwareVersion})`),
    line(`pcrs`, s.pcrValues, (values) => `${s.policyPcrs} (policy set)${values.map((v) => `\n  PCR ${String(v.pcr).padStart(2)}  ${v.sha256}`).join('')}`),
    'nv indices',
    ...s.nvIndices.map(
      (n) =>
        `  ${n.role.padEnd(17)} ${n.index}  ${n.defined ? n.attributes : 'not defined'}${n.asProvisioned ? '' : `  (expected ${n.expected})`}`,
    ),
    line('floors', s.floors, (f) => `root version ${f.rootVersion}, security version ${f.securityVersion}, revocation list ${f.revocationVersion}, targets ${f.targetsVersion}`),
    line('anchors', s.anchors, (a) => `unseal and verify now: device ${a.deviceId} (hardware ${a.hardwareId}, report keyid ${a.reportKeyId.slice(0, 16)}…)`, authHint),
    line('pcr policy', s.pcrPolicy, describePcrPolicy),
    line('measured', s.measurement, (m) => `PCR ${m.pcr} ${m.sha256}${m.events === undefined ? '' : `, event log replays ${m.events} events`}`),
  ];
}

export const tpmStatusCommand: Command = {
  name: NAME,
  usage: [
    'tpm status [--tpm-device PATH | --tpm-swtpm HOST:PORT] [--state-dir DIR] [--owner-auth-file FILE] [--json]',
    '',
    ...TPM_USAGE,
    '  --json                 print the status as JSON',
    '',
    'floors: root, security, revocation-list and top-level targets version, each from its TPM NV counter',
    `(default ${FLOOR_KINDS.map((k) => hex(DEFAULT_NV_INDICES[k])).join(' / ')}; the pin at ${hex(DEFAULT_NV_INDICES.pin)} names them).`,
    'read-only: changes nothing in the TPM or on disk.',
    'exit 0 when the anchors unseal and verify; 1 when they do not (the reason is shown); 3 when no TPM answers.',
  ].join('\n'),

  async run(argv: string[], io: CliIo): Promise<number> {
    const { values } = parseCommandArgs(NAME, argv, { ...TPM_OPTIONS, json: { type: 'boolean' } });
    const stateDir = values['state-dir'] ?? DEFAULT_STATE_DIR;
    const config = tpmConfigFrom(NAME, values);
    const ownerAuth = await ownerAuthFrom(NAME, values);
    const status = await withTpm(config, (tpm) => collectTrustStatus({ tpm, stateDir, ownerAuth }));
    if (values.json) io.out(JSON.stringify(status, null, 2));
    else describe(status, ownerAuthHint(values['owner-auth-file'])).forEach((l) => io.out(l));
    return status.anchors.ok ? EXIT.OK : EXIT.REFUSED;
  },
};
