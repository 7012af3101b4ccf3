import { createPublicKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { EdgesealError, isEdgesealError } from '../core/errors.js';
import type { EccPoint } from '../tpm/salted-session.js';
import { pointFromKey } from '../trust/pcr-policy.js';
import { isTpmRc } from '../tpm/rc.js';
import type { TpmConfig } from '../tpm/transport.js';
import { METADATA_MAX_LENGTH } from '../tuf/limits.js';
import { readCapped } from '../tuf/metadata-files.js';
import { DEFAULT_NV_INDICES, hex } from '../trust/nv-layout.js';
import { DEFAULT_POLICY_PCRS, parsePcrSelection } from '../trust/pcr-selection.js';
import { provision, type ProvisionResult } from '../trust/provision.js';
import { trustPaths } from '../trust/state-files.js';
import { DEFAULT_CONFIG_PATH, loadConfig } from '../agent/config-file.js';
import { openDevice, tpmConfig } from '../agent/device.js';
import type { AgentConfig } from '../config/schema.js';
import { createLogger } from '../log/logger.js';
import { repairCache } from './cache-repair.js';
import { EXIT, parseCommandArgs, required, type CliIo, type Command } from './command.js';
import { DEFAULT_STATE_DIR, TPM_OPTIONS, TPM_USAGE, ownerAuthFrom, ownerAuthHint, tpmConfigFrom, withTpm } from './tpm-status.js';

const NAME = 'provision';

// --pcr-authority FILE (provision, reseal): the authority's PEM public key as the TPM sees it.
export async function readPcrAuthority(command: string, path: string): Promise<EccPoint> {
  try {
    return pointFromKey(createPublicKey(await readFile(path, 'utf8')));
  } catch (err) {
    if (isEdgesealError(err)) throw err;
    throw new EdgesealError('KEY_INVALID', `${command}: --pcr-authority: expected a PEM ECC P-256 public key in ${path}, could not read one (${(err as Error).message})`, { cause: err });
  }
}

export const provisionCommand: Command = {
  name: NAME,
  usage: [
    'provision --root FILE --hardware-id ID [--pcrs sha256:0,2,4,7] [--pcr-authority KEY.pub] [--tpm-device PATH | --tpm-swtpm HOST:PORT] [--state-dir DIR] [--owner-auth-file FILE] [--force] [--json]',
    '',
    '  --root FILE            the initial trusted root.json; its sha256 is sealed and pinned, the bytes are kept',
    '  --hardware-id ID       this board\'s hardware id (A–Z a–z 0–9 . _ -), matched against targets\' hardwareIds',
    `  --pcrs SEL             PCRs the anchor secret is sealed to, at their current values (default ${DEFAULT_POLICY_PCRS})`,
    '  --pcr-authority FILE   seal instead to any PCR policy this ECC P-256 key signs (PEM public key from',
    '                         \'edgeseal repo pcr-policy keygen\'); the agent unseals with DIR/trust/pcr-policies/*.json',
    ...TPM_USAGE,
    '  --force                replace existing anchors (new report key; floors restart at 0 from the counters\' current values)',
    '  --json                 print the result as JSON',
    '',
    'provision --config FILE --root FILE [--from DIR|URL] [--pcrs …] [--force] [--json]',
    '',
    `  --config FILE          the agent config: hardware id, state dir, TPM and owner password come from it (default ${DEFAULT_CONFIG_PATH} with --from)`,
    '  --from DIR|URL         the published repository (directory holding metadata/ and targets/, or mirror URL): fill the',
    "                         metadata cache in the same step, verified from the root just pinned ('edgeseal cache repair')",
    '',
    'Creates NV indices (TPM owner hierarchy): ' +
      `${hex(DEFAULT_NV_INDICES.pin)} pin (write-once, write-locked), ${hex(DEFAULT_NV_INDICES.rootVersion)} / ${hex(DEFAULT_NV_INDICES.securityVersion)} / ` +
      `${hex(DEFAULT_NV_INDICES.revocationVersion)} / ${hex(DEFAULT_NV_INDICES.targetsVersion)} counters for the root, security, revocation-list and`,
    'top-level targets version floors.',
    'Writes DIR/trust/{initial-root.json,sealed-anchor.json,device.json}. Running it again with the same root and',
    'hardware id is a no-op; different anchors are refused (ANCHOR_EXISTS, exit 2) unless --force, and so are anchor',
    'files already in DIR/trust that this TPM holds no pin for (another TPM\'s: a swapped or cleared TPM, a wrong --tpm-*).',
    'Set an owner password first (tpm2_changeauth -c owner) and pass it with --owner-auth-file, so that a process',
    'with TPM access cannot undefine the pin or burn the counters; the agent then needs config tpm.ownerAuthFile.',
    'With --from, a cache that does not fill (the repository does not verify from --root, or is unreachable) leaves',
    "the anchors in place and exits with that error's code; fix the repository and re-run, or use 'edgeseal cache repair'.",
  ].join('\n'),

  async run(argv: string[], io: CliIo): Promise<number> {
    const { values } = parseCommandArgs(NAME, argv, {
      ...TPM_OPTIONS,
      config: { type: 'string' },
      from: { type: 'string' },
      root: { type: 'string' },
      'hardware-id': { type: 'string' },
      pcrs: { type: 'string' },
      'pcr-authority': { type: 'string' },
      force: { type: 'boolean' },
      json: { type: 'boolean' },
    });
    const agent = values.config !== undefined || values.from !== undefined ? await loadConfig(values.config ?? DEFAULT_CONFIG_PATH) : undefined;
    const rootPath = required(NAME, 'root', values.root);
    const hardwareId = required(NAME, 'hardware-id', values['hardware-id'] ?? agent?.hardwareId);
    const pcrs = parsePcrSelection(values.pcrs ?? DEFAULT_POLICY_PCRS);
    const stateDir = values['state-dir'] ?? agent?.stateDir ?? DEFAULT_STATE_DIR;
    const config = agent && values['tpm-swtpm'] === undefined && values['tpm-device'] === undefined ? tpmConfig(agent) : tpmConfigFrom(NAME, values);
    if (agent) sameAsConfig(agent, { hardwareId, stateDir, tpm: config, ownerAuthFile: values['owner-auth-file'] });
    const ownerAuth = await ownerAuthFrom(NAME, { 'owner-auth-file': values['owner-auth-file'] ?? agent?.tpm.ownerAuthFile });
    const rootBytes = await readCapped(rootPath, METADATA_MAX_LENGTH.root);
    const now = new Date(); // the CLI is an adapter: provisioning time is read here, once
    const pcrAuthority = values['pcr-authority'] === undefined ? undefined : await readPcrAuthority(NAME, values['pcr-authority']);
    const result = await withTpm(config, (tpm) => provision({ tpm, stateDir, rootBytes, hardwareId, pcrs, force: values.force === true, now, ownerAuth, pcrAuthority })).catch((err: unknown) => {
      // TPM2_NV_DefineSpace / CreatePrimary under the owner hierarchy: say which password was wrong
      if (!isTpmRc(err, 'TPM_RC_BAD_AUTH')) throw err;
      throw new EdgesealError('TPM_ERROR', `${err.message}; ${ownerAuthHint(values['owner-auth-file'])}`, { cause: err });
    });
    if (values.json) io.out(JSON.stringify({ ...result, stateDir: trustPaths(stateDir).dir }, null, 2));
    else printResult(io, result, stateDir);
    if (values.from === undefined || !agent) return EXIT.OK;
    // the factory's cache fill: the same refresh-and-promote as 'cache repair', from the root just pinned
    const dev = await openDevice({ config: agent, logger: createLogger({ level: 'error' }), telemetry: 'outbox' });
    try {
      return await repairCache(dev, values.from, (line) => (values.json ? io.err(line) : io.out(`  cache         ${line}`)));
    } finally {
      await dev.close();
    }
  },
};

function printResult(io: CliIo, result: ProvisionResult, stateDir: string): void {
  const { identity } = result;
  io.out(result.status === 'provisioned' ? `provisioned ${identity.deviceId}` : `already provisioned with this root: ${identity.deviceId} (nothing changed)`);
  io.out(`  hardware id   ${identity.hardwareId}`);
  io.out(`  root sha256   ${result.initialRootDigest}`);
  io.out(`  report key    ${identity.reportPublicKey} (keyid ${identity.reportKeyId})`);
  io.out(`  sealed to     ${identity.policyPcrs}`);
  io.out(`  NV pin        ${hex(identity.nvIndices.pin)}; counters ${hex(identity.nvIndices.rootVersion)} ${hex(identity.nvIndices.securityVersion)} ${hex(identity.nvIndices.revocationVersion)} ${hex(identity.nvIndices.targetsVersion)}`);
  io.out(`  files         ${trustPaths(stateDir).dir}`);
}

// The flags given next to --config must not name another device than the config does (expected vs found).
function sameAsConfig(agent: AgentConfig, given: { hardwareId: string; stateDir: string; tpm: TpmConfig; ownerAuthFile: string | undefined }): void {
  const differ = (what: string, inConfig: unknown, flag: unknown): never => {
    throw new EdgesealError('USAGE', `${NAME}: ${what}: expected the config's ${JSON.stringify(inConfig)}, found ${JSON.stringify(flag)} on the command line (drop the flag or fix the config)`);
  };
  if (given.hardwareId !== agent.hardwareId) differ('hardware id', agent.hardwareId, given.hardwareId);
  if (given.stateDir !== agent.stateDir) differ('state dir', agent.stateDir, given.stateDir);
  if (JSON.stringify(given.tpm) !== JSON.stringify(tpmConfig(agent))) differ('TPM', tpmConfig(agent), given.tpm);
  if (given.ownerAuthFile !== undefined && given.ownerAuthFile !== agent.tpm.ownerAuthFile) differ('owner auth file', agent.tpm.ownerAuthFile, given.ownerAuthFile);
}
