import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decideUpdate, type GateCandidate, type GateInput } from '../../src/core/gate.js';
import { FileBootSelector } from '../../src/ota/boot-selector-file.js';
import { toGateCandidates, toInstallTarget } from '../../src/ota/candidates.js';
import { Installer } from '../../src/ota/install.js';
import { BlockSlotBackend } from '../../src/ota/slot-block.js';
import { publishedTargetPath } from '../../src/ota/target-path.js';
import { readMetadataDir } from '../../src/tuf/metadata-files.js';
import { loadTrustedMetadata } from '../../src/tuf/offline/load-trusted.js';
import { listTargets } from '../../src/tuf/offline/verify-image.js';
import { streamRig } from './slot-stream.js';
import { expectCodeAsync } from '../helpers/expect-code.js';
import { serveDir, type RepoServer } from '../tuf/repo-server.js';

// The OTA pieces composed over the committed firmware fixtures (real signed TUF repositories):
// verified metadata → listTargets → gate → download over HTTP or from a "USB stick" → install.
const OUT = fileURLToPath(new URL('../../../firmware-fixtures/out/', import.meta.url));
interface Case {
  name: string;
  target: string;
  image: string;
  now: string;
}
const CASES = (JSON.parse(readFileSync(join(OUT, 'manifest.json'), 'utf8')) as { cases: Case[] }).cases;
const byName = (name: string): Case => CASES.find((c) => c.name === name) ?? expect.fail(`fixture case ${name} missing`);
const NOW = new Date(byName('good-fw-board-a').now);

async function candidates(repo: string): Promise<GateCandidate[]> {
  const trusted = loadTrustedMetadata(await readMetadataDir(join(OUT, repo, 'metadata')), { now: NOW, expiry: 'enforce' });
  return toGateCandidates(listTargets(trusted, NOW)).candidates;
}

function gateInput(c: GateCandidate[], hardwareId: string, installed: { version: string; securityVersion: number }, over: Partial<GateInput> = {}): GateInput {
  return {
    candidates: c,
    device: { hardwareId, kind: 'firmware' },
    installed,
    floors: { securityVersion: installed.securityVersion },
    revocation: () => ({ ok: true }),
    freeBytes: 64 * 1024 * 1024,
    maintenanceWindows: [],
    policy: { allowDowngrade: false },
    now: NOW,
    ...over,
  };
}

function chosen(input: GateInput): GateCandidate {
  const d = decideUpdate(input);
  if (d.action !== 'install') return expect.fail(`expected install, got ${JSON.stringify(d)}`);
  return d.target;
}

describe('OTA over the firmware fixtures', () => {
  let server: RepoServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('gates the newest board-a firmware from repos/main and downloads it over HTTP', async () => {
    const target = chosen(gateInput(await candidates('repos/main'), 'board-a', { version: '2.3.0', securityVersion: 6 }));
    expect(target.name).to.equal(byName('good-fw-board-a').target);
    expect(`repos/main/targets/${publishedTargetPath(target)}`).to.equal(byName('good-fw-board-a').image);
    server = await serveDir(join(OUT, 'repos/main'));
    const rig = await streamRig(await mkdtemp(join(tmpdir(), 'es-fx-')));
    await rig.run({ source: { kind: 'http', baseUrl: server.url }, target });
    expect((await rig.slotBytes()).equals(await readFile(join(OUT, byName('good-fw-board-a').image)))).to.be.true;
  });

  it('installs it from the repository as a USB stick into partition B and arms the trial boot', async () => {
    const target = chosen(gateInput(await candidates('repos/main'), 'board-a', { version: '2.3.0', securityVersion: 6 }));
    const dir = await mkdtemp(join(tmpdir(), 'es-fx-'));
    const devices = { A: join(dir, 'p2'), B: join(dir, 'p3') };
    await writeFile(devices.A, Buffer.alloc(2 * 1024 * 1024));
    await writeFile(devices.B, Buffer.alloc(2 * 1024 * 1024));
    const selector = await FileBootSelector.create(join(dir, 'boot.json'), 'A');
    const slots = new BlockSlotBackend(devices);
    const installer = new Installer({ journalPath: join(dir, 'install.json'), stagingDir: join(dir, 'staging'), source: { kind: 'dir', path: join(OUT, 'repos/main') }, slots, selector, raiseFloors: () => Promise.resolve() });
    expect((await installer.install(toInstallTarget(target))).next).to.equal('reboot');
    expect(await slots.measure('B', target.length)).to.deep.equal({ length: target.length, sha256: target.sha256 });
    expect(await selector.state()).to.include({ good: 'A', trySlot: 'B', tryCount: 1 });
  });

  it('refuses the tampered board-b image the server sends in place of the signed one (DIGEST_MISMATCH)', async () => {
    const tampered = byName('tampered-image');
    const target = chosen(gateInput(await candidates('repos/main'), 'board-b', { version: '2.0.0', securityVersion: 1 }));
    expect(target.name).to.equal(tampered.target);
    const evil = await readFile(join(OUT, tampered.image));
    server = await serveDir(join(OUT, 'repos/main'), { routes: { [`/targets/${publishedTargetPath(target)}`]: (res) => res.writeHead(200, { 'content-length': evil.length }).end(evil) } });
    const source = { kind: 'http', baseUrl: server.url } as const;
    const rig = await streamRig(await mkdtemp(join(tmpdir(), 'es-fx-')));
    await expectCodeAsync(() => rig.run({ source, target }), 'DIGEST_MISMATCH');
  });

  it('refuses the validly signed older release: by version, and by the TPM floor even when downgrades are allowed', async () => {
    const old = await candidates('repos/rollback-old');
    expect(decideUpdate(gateInput(old, 'board-a', { version: '1.1.0', securityVersion: 2 }))).to.include({ action: 'refuse', code: 'ROLLBACK' });
    const downgrade = gateInput(old, 'board-a', { version: '1.1.0', securityVersion: 2 }, { policy: { allowDowngrade: true } });
    expect(decideUpdate(downgrade)).to.include({ action: 'refuse', code: 'ROLLBACK' });
    expect(chosen({ ...downgrade, floors: { securityVersion: 1 } }).custom.version).to.equal('1.0.0');
  });

  it('refuses board-c hardware that no published firmware lists (HARDWARE_MISMATCH)', async () => {
    expect(decideUpdate(gateInput(await candidates('repos/main'), 'board-c', { version: '1.0.0', securityVersion: 1 }))).to.include({ action: 'refuse', code: 'HARDWARE_MISMATCH' });
  });
});
