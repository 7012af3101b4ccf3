import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, type AgentConfig } from '../config/schema.js';
import { isEdgesealError } from '../core/errors.js';
import { createLogger } from '../log/logger.js';
import { FileBootSelector } from '../ota/boot-selector-file.js';
import type { DownloadProgress } from '../ota/download.js';
import { startEmbeddedBroker } from '../telemetry/embedded-broker.js';
import { TpmClient } from '../tpm/client.js';
import { provision } from '../trust/provision.js';
import { imageStatus } from '../agent/boot-check.js';
import { bootSequence, type BootOutcome } from '../agent/boot-sequence.js';
import { tapFleet } from './demo-telemetry.js';
import { DEMO_FIXTURES as FIXTURES_OUT, UPDATE_SCENARIO as S } from './scenario.js';

const R = S.demo; // the demo's repos: the scenario with a signed revocation list
import { openDevice, type Device } from '../agent/device.js';
import { imageLines, short, shortenDigests } from '../agent/format.js';
import { serveDirectory } from './static-server.js';
import { startSwtpm, type Swtpm } from './swtpm-process.js';
import { refreshMetadata } from '../agent/metadata-refresh.js';
import { refreshRevocations } from '../agent/revocation-refresh.js';
import { runUpdate, type UpdateOutcome } from '../agent/update.js';

// `edgeseal demo`: the real agent on this machine with nothing but the README — its own swtpm, the
// fixture repository on a loopback mirror, an embedded MQTT broker — through one A → B update.

export interface DemoIo {
  line(text: string): void;
  progress?: (p: DownloadProgress) => void;
}

const FLEET = 'demo';
const DEVICE = 'demo-board-1';

function bootLines(io: DemoIo, o: BootOutcome): void {
  const verdict = o.proceed ? '✔' : '✘';
  io.line(`  ${verdict} boot ${o.action}${o.code ? ` [${o.code}]` : ''}`);
  imageLines(o.check.outcomes.map(imageStatus)).forEach((l) => io.line(`  ${l}`));
}

function updateLines(io: DemoIo, o: UpdateOutcome): void {
  if (o.action === 'refused') io.line(`  ✘ refused [${o.code ?? '?'}] ${shortenDigests(o.message)}`);
  else io.line(`  ${o.action === 'installed' ? '✔' : '·'} ${o.message}`);
  for (const r of o.reasons ?? []) io.line(`      · ${r}`);
}

// Measured boot (P4): the event log on disk replays to the value the TPM holds in the PCR.
async function measuredLine(dev: Device): Promise<string> {
  const events = await dev.trust.verifyEventLog();
  return `measured: PCR ${dev.trust.measurementLog.pcr} ← ${events.map((e) => `${short(e.digest)} (${e.image.split('/').pop() ?? e.image})`).join(', ')}; the event log replays to the TPM's value`;
}

async function floorsLine(dev: Device): Promise<string> {
  const f = await dev.trust.readFloors();
  return `TPM floors: securityVersion ${f.securityVersion}, rootVersion ${f.rootVersion}, targetsVersion ${f.targetsVersion}`;
}

async function revocationLine(dev: Device): Promise<string> {
  const st = dev.revocations.status(new Date());
  return `revocation list: ${st.list ? `v${st.list.version}, ${st.list.digests.length} image(s) revoked` : 'none'} (${st.state}); TPM floor revocationVersion ${(await dev.trust.readFloors()).revocationVersion}`;
}

export async function runDemo(io: DemoIo): Promise<void> {
  const t0 = Date.now();
  const work = await mkdtemp(join(tmpdir(), 'edgeseal-demo-'));
  let swtpm: Swtpm | undefined;
  const closers: (() => Promise<unknown>)[] = [];
  try {
    io.line('edgeseal demo — TUF-verified boot and OTA with TPM-anchored trust, on this machine');
    io.line('');
    await mkdir(join(work, 'swtpm'));
    swtpm = await startSwtpm({ stateDir: join(work, 'swtpm') });
    const mirror = await serveDirectory(FIXTURES_OUT);
    closers.push(() => mirror.close());
    // the device install (npm run package) leaves the demo's broker out: the demo then runs without telemetry
    const broker = await startEmbeddedBroker().catch((err: unknown) => {
      if (isEdgesealError(err, 'DEPENDENCY_MISSING')) return { missing: err.message };
      throw err;
    });
    if ('close' in broker) closers.push(() => broker.close());
    io.line(`▸ environment`);
    io.line(`  swtpm (software TPM 2.0)   ${swtpm.address}, state in ${swtpm.stateDir}`);
    io.line(`  update mirror (HTTP)       ${mirror.url}/${R.repo}  (firmware-fixtures, signed TUF repository with a signed revocation list)`);
    io.line(`  MQTT broker (embedded)     ${'url' in broker ? broker.url : `none: ${broker.missing}`}`);

    const stateDir = join(work, 'device');
    const slots = { a: join(work, 'slot-a.img'), b: join(work, 'slot-b.img') };
    const root = await readFile(join(FIXTURES_OUT, R.repo, 'metadata', '1.root.json'));
    const tpm = await TpmClient.open({ swtpm: swtpm.address });
    const provisioned = await provision({ tpm, stateDir, rootBytes: root, hardwareId: S.hardwareId, now: new Date() }).finally(() => tpm.close());
    io.line('');
    io.line('▸ provision: seal the anchor secret to PCRs, pin the initial root in write-once NV, create the floor counters');
    io.line(`  ✔ device ${provisioned.identity.deviceId}  root sha256 ${short(provisioned.initialRootDigest)}  report key ${short(provisioned.identity.reportKeyId)}`);

    const raw = {
      deviceId: DEVICE,
      fleet: FLEET,
      hardwareId: S.hardwareId,
      stateDir,
      tpm: { swtpm: swtpm.address },
      images: [{ target: S.v1.target, kind: 'firmware' }],
      update: { source: `${mirror.url}/${R.repo}`, slots, bootSelector: { file: join(work, 'bootloader.json') }, rebootCommand: ['true'], jitterSeconds: 0 },
      ...('url' in broker ? { telemetry: { broker: broker.url } } : {}),
      logLevel: 'error',
    };
    await writeFile(join(work, 'config.json'), JSON.stringify(raw, null, 2));
    const config: AgentConfig = parseConfig(raw, join(work, 'config.json'));
    const tap = 'url' in broker ? await tapFleet(broker.url, config.telemetry.prefix, FLEET, DEVICE) : undefined;
    if (tap) closers.unshift(() => tap.close());
    const open = (): Promise<Device> => openDevice({ config, logger: createLogger({ silent: true }), telemetry: tap ? 'publish' : 'off' });

    // factory: slot A holds v1.0.0, the bootloader boots A, the metadata cache is fetched once
    const v1 = await readFile(join(FIXTURES_OUT, R.repo, 'targets', await targetFile(R.repo, S.v1.target)));
    await writeFile(slots.a, v1);
    await writeFile(slots.b, Buffer.alloc(0));
    const boot = await FileBootSelector.create(raw.update.bootSelector.file, 'A');
    let dev = await open();
    // the factory fill `provision --from` does: the promoted set, then the revocation cache from its list
    const set = await refreshMetadata(dev, raw.update.source);
    const listed = await refreshRevocations(dev, () => Promise.resolve(set));
    io.line(`  ✔ factory image ${S.v1.target} ${S.v1.version} written to slot A; TUF metadata cached; revocation list ${listed.ok ? `v${listed.version}` : `[${listed.error.code}]`}`);

    io.line('');
    io.line('▸ agent start #1: unseal anchors, walk the root chain from the pinned root, verify every image, measure into PCR 6');
    bootLines(io, await bootSequence(dev, new Date()));
    io.line(`  ${await measuredLine(dev)}`);
    io.line(`  ${await floorsLine(dev)}`);

    io.line('');
    io.line(`▸ update from ${raw.update.source}: tuf-js refresh → newest target for ${S.hardwareId} → gate → download → verify → stage into slot B`);
    const up = await runUpdate(dev, { ...(io.progress ? { onProgress: io.progress } : {}) });
    updateLines(io, up);
    io.line(`  bootloader: ${JSON.stringify(await boot.state())}`);
    io.line(`  ${await floorsLine(dev)}  (securityVersion unchanged until the new slot proves itself)`);
    await dev.close();

    io.line('');
    io.line('▸ reboot: the bootloader tries slot B once; the TPM restarts (PCRs reset, NV kept)');
    await boot.simulateBoot();
    await swtpm.restart();
    dev = await open();
    io.line('▸ agent start #2: boot check of the trial slot → commit → THEN raise the TPM floors');
    bootLines(io, await bootSequence(dev, new Date()));
    io.line(`  ${await measuredLine(dev)}`);
    io.line(`  bootloader: ${JSON.stringify(await boot.state())}`);
    io.line(`  ${await floorsLine(dev)}`);

    io.line('');
    const tampered = `${mirror.url}/${R.tampered}`;
    io.line(`▸ the next release (${S.v3.version}) arrives through a mirror that altered its bytes: ${tampered}`);
    updateLines(io, await runUpdate(dev, { from: tampered }));
    io.line(`  bootloader: ${JSON.stringify(await boot.state())}  (still on the verified slot)`);

    io.line('');
    const revoked = `${mirror.url}/${R.revoked}`;
    io.line(`▸ the publisher revokes ${S.v3.version} by digest (a known-bad build) and publishes revocation list v2: ${revoked}`);
    updateLines(io, await runUpdate(dev, { from: revoked }));
    io.line(`  ${await revocationLine(dev)}`);
    io.line(`  bootloader: ${JSON.stringify(await boot.state())}  (still on the verified slot)`);
    await dev.close(); // flushes the outbox to the broker

    io.line('');
    if (!tap) io.line('▸ telemetry: skipped (no MQTT broker; npm install aedes to see the signed events)');
    const count = tap?.verifyAll(provisioned.identity.reportPublicKey);
    if (tap) io.line(`▸ telemetry: ${count} signed events on ${config.telemetry.prefix}/${FLEET}/${DEVICE}/event, every signature verified with the device report key`);
    for (const { event: e } of tap?.events().filter((x) => x.event.type !== 'metrics') ?? []) {
      io.line(`  #${String(e.seq).padEnd(3)} ${e.type.padEnd(18)} ${e.verdict.padEnd(8)} ${(e.code ?? '').padEnd(16)} ${e.image ? `${e.image.name} ${e.image.version ?? ''}`.trim() : (e.detail ?? '')}`);
    }
    io.line('');
    io.line(`done in ${((Date.now() - t0) / 1000).toFixed(1)} s. Next: 'edgeseal --help', README.md, and 'npm run check' for the test suite.`);
  } finally {
    for (const close of closers) await close().catch(() => undefined);
    await swtpm?.stop();
    await rm(work, { recursive: true, force: true });
  }
}

// Published path (under targets/) of a target in a fixture repository: <dirs>/<sha256>.<basename>.
async function targetFile(repo: string, name: string): Promise<string> {
  const ts = JSON.parse(await readFile(join(FIXTURES_OUT, repo, 'metadata', 'timestamp.json'), 'utf8')) as { signed: { meta: Record<string, { version: number }> } };
  const snap = JSON.parse(await readFile(join(FIXTURES_OUT, repo, 'metadata', `${ts.signed.meta['snapshot.json'].version}.snapshot.json`), 'utf8')) as { signed: { meta: Record<string, { version: number }> } };
  const targets = JSON.parse(await readFile(join(FIXTURES_OUT, repo, 'metadata', `${snap.signed.meta['targets.json'].version}.targets.json`), 'utf8')) as { signed: { targets: Record<string, { hashes: { sha256: string } }> } };
  const parts = name.split('/');
  const base = parts.pop()!;
  return [...parts, `${targets.signed.targets[name].hashes.sha256}.${base}`].join('/');
}
