import type { KeyObject } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UPDATE_SCENARIO as S } from '../../firmware-fixtures/update-scenario.js';
import { FIXTURES_OUT, readMetadataDir } from '../../firmware-fixtures/manifest.js';
import { bootSequence, type BootOutcome } from '../../src/agent/boot-sequence.js';
import type { Device, DeviceOptions } from '../../src/agent/device.js';
import { openDevice } from '../../src/agent/device.js';
import { refreshMetadata } from '../../src/agent/metadata-refresh.js';
import { parseConfig, type AgentConfig } from '../../src/config/schema.js';
import { createLogger } from '../../src/log/logger.js';
import { FileBootSelector } from '../../src/ota/boot-selector-file.js';
import { TpmClient } from '../../src/tpm/client.js';
import { provision } from '../../src/trust/provision.js';
import { parsePcrSelection } from '../../src/trust/pcr-selection.js';
import { encodePcrPolicy, pointFromKey, signPcrPolicy } from '../../src/trust/pcr-policy.js';
import { trustPaths } from '../../src/trust/state-files.js';
import { startSwtpm, type Swtpm } from '../helpers/swtpm.js';

// A simulated board for agent tests: swtpm provisioned with the update scenario's root, slot files
// A (factory v1.0.0) and B, a file boot selector, and the metadata cache refreshed from the fixture repo.

export const REPO = join(FIXTURES_OUT, S.repo);
export const TAMPERED = join(FIXTURES_OUT, S.tampered);
export const NOW = new Date('2026-06-01T12:00:00Z');

export interface Board {
  readonly dir: string;
  readonly configPath: string;
  readonly config: AgentConfig;
  readonly slots: { readonly a: string; readonly b: string };
  readonly boot: FileBootSelector;
  readonly reboots: string[][]; // argv of every reboot the agent asked for
  open(opts?: Partial<DeviceOptions>): Promise<Device>;
}

// Bytes of a published target in the genuine scenario repo.
export async function targetBytes(repo: string, name: string): Promise<Buffer> {
  const meta = readMetadataDir(join(repo, 'metadata'));
  const targets = JSON.parse(Buffer.from(meta.targets).toString('utf8')) as { signed: { targets: Record<string, { hashes: { sha256: string } }> } };
  const sha = targets.signed.targets[name].hashes.sha256;
  const parts = name.split('/');
  const base = parts.pop()!;
  return readFile(join(repo, 'targets', ...parts, `${sha}.${base}`));
}

export interface BoardOptions {
  // provision to this PCR-policy authority; the factory image carries its generation-1 policy for the boot chain now
  readonly pcrAuthority?: KeyObject;
}

// `repo`: the published repository the board is provisioned from (its 1.root.json) and fetches from.
export async function setupBoard(swtpm: Swtpm, over: Record<string, unknown> = {}, hardwareId: string = S.hardwareId, repo = REPO, opts: BoardOptions = {}): Promise<Board> {
  await swtpm.restart(); // a fresh boot: PCRs (and our measurements) start from zero
  const dir = await mkdtemp(join(tmpdir(), 'es-agent-'));
  const stateDir = join(dir, 'state');
  const slots = { a: join(dir, 'slot-a.bin'), b: join(dir, 'slot-b.bin') };
  await mkdir(stateDir, { recursive: true });
  const root = await readFile(join(repo, 'metadata', '1.root.json'));
  const tpm = await TpmClient.open({ swtpm: swtpm.address });
  try {
    const pcrs = parsePcrSelection('sha256:0,2,4,7');
    await provision({ tpm, stateDir, rootBytes: root, hardwareId, now: NOW, pcrs, force: true, ...(opts.pcrAuthority ? { pcrAuthority: pointFromKey(opts.pcrAuthority) } : {}) });
    if (opts.pcrAuthority) {
      const policy = signPcrPolicy({ generation: 1, pcrs, values: (await tpm.pcrRead(pcrs)).values }, opts.pcrAuthority);
      await mkdir(trustPaths(stateDir).pcrPolicies, { recursive: true });
      await writeFile(join(trustPaths(stateDir).pcrPolicies, '1.json'), encodePcrPolicy(policy));
    }
  } finally {
    await tpm.close();
  }
  // slot A holds the factory image: the first configured image's target (the scenario's v1 by default)
  await writeFile(slots.a, await targetBytes(repo, (over.images as { target: string }[] | undefined)?.[0]?.target ?? S.v1.target));
  await writeFile(slots.b, Buffer.alloc(0));
  const boot = await FileBootSelector.create(join(dir, 'boot.json'), 'A');
  const raw = {
    deviceId: 'dev-1',
    hardwareId,
    stateDir,
    tpm: { swtpm: swtpm.address },
    images: [{ target: S.v1.target, kind: 'firmware' }],
    logLevel: 'error',
    runDir: join(dir, 'run'), // this board's tmpfs (boot record, spool), never the host's /run/edgeseal
    ...over,
    update: { source: repo, slots, bootSelector: { file: join(dir, 'boot.json') }, rebootCommand: ['true'], jitterSeconds: 0, reserveBytes: 0, ...(over.update as object | undefined) },
  };
  const configPath = join(dir, 'config.json');
  await writeFile(configPath, JSON.stringify(raw, null, 2));
  const config = parseConfig(raw);
  const reboots: string[][] = [];
  const board: Board = {
    dir,
    configPath,
    config,
    slots,
    boot,
    reboots,
    open: (opts = {}) =>
      openDevice({ config, logger: createLogger({ silent: true }), telemetry: 'outbox', reboot: (argv) => Promise.resolve(void reboots.push([...argv])), ...opts }),
  };
  // the factory step: a metadata cache for the boot check to trust, from the pinned root on
  const dev = await board.open();
  try {
    await refreshMetadata(dev, repo);
  } finally {
    await dev.close();
  }
  return board;
}

// Opens the board's device for `fn` and closes it after, whatever `fn` does.
export async function withDevice<T>(board: Board, fn: (dev: Device) => Promise<T>): Promise<T> {
  const dev = await board.open();
  try {
    return await fn(dev);
  } finally {
    await dev.close();
  }
}

export interface BoardRigOptions {
  readonly scratch?: string; // mkdtemp prefix of a scratch dir for the suite (rig.dir), removed after it
}

export interface BoardRig {
  readonly swtpm: Swtpm;
  readonly dir: string; // the scratch dir; only with options.scratch
  // a fresh board on the suite's swtpm (setupBoard's arguments)
  board(over?: Record<string, unknown>, hardwareId?: string, repo?: string, opts?: BoardOptions): Promise<Board>;
  // the bootloader picks the armed slot, the TPM resets its PCRs, the agent starts again
  reboot(board: Board): Promise<BootOutcome>;
}

// The setup every swtpm-backed agent suite shares, called in its describe: the timeout a provisioned
// boot needs, and one swtpm for the suite (started before its tests, stopped after them).
export function useBoardRig(suite: Mocha.Suite, opts: BoardRigOptions = {}): BoardRig {
  suite.timeout(60_000);
  let swtpm: Swtpm;
  let dir: string | undefined;
  before(async () => {
    swtpm = await startSwtpm();
    if (opts.scratch) dir = await mkdtemp(join(tmpdir(), opts.scratch));
  });
  after(async () => {
    await swtpm.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  return {
    get swtpm() {
      return swtpm;
    },
    get dir() {
      if (!dir) throw new Error('useBoardRig: rig.dir needs the scratch option');
      return dir;
    },
    board: (over, hardwareId, repo, opts) => setupBoard(swtpm, over, hardwareId, repo, opts),
    async reboot(board) {
      await board.boot.simulateBoot();
      await swtpm.restart();
      return withDevice(board, (dev) => bootSequence(dev, NOW));
    },
  };
}

export async function flipByte(path: string): Promise<void> {
  const bytes = await readFile(path);
  bytes[bytes.length >> 1] ^= 0x01;
  await writeFile(path, bytes);
}

export { S };
