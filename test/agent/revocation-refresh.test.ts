import { expect } from 'chai';
import { cp, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { agentPaths } from '../../src/agent/agent-state.js';
import { bootSequence } from '../../src/agent/boot-sequence.js';
import { EXIT } from '../../src/cli/command.js';
import { parseEnvelope } from '../../src/telemetry/envelope.js';
import { DiskOutboxStore } from '../../src/telemetry/outbox/disk-store.js';
import { serveRepo, type RepoServer } from './repo-server.js';
import { RevocationPublisher, sha } from './revocation-publisher.js';
import { S, useBoardRig, withDevice, type Board } from './rig.js';
import { runCli as edgeseal } from '../helpers/run-cli.js';

// A copy of the published repository whose list file no longer matches what TUF signed.
async function swappedCopy(from: string, to: string): Promise<void> {
  await cp(from, to, { recursive: true });
  const dir = join(to, 'targets', 'revocations');
  for (const f of await readdir(dir)) {
    const bytes = await readFile(join(dir, f));
    bytes[bytes.length >> 1] ^= 0x01;
    await writeFile(join(dir, f), bytes);
  }
}

// `edgeseal revocations refresh` on a provisioned board (swtpm) against a loopback HTTP mirror, through the
// same tuf-js updater the agent uses; then the board restarts offline and still enforces the cached list.
describe('edgeseal revocations refresh (real swtpm, loopback HTTP mirror)', function () {
  const rig = useBoardRig(this, { scratch: 'es-agent-revrefresh-' });
  let server: RepoServer | undefined;
  after(async () => {
    await server?.close();
  });

  const floors = (board: Board): Promise<{ revocationVersion: number }> => withDevice(board, (dev) => dev.trust.readFloors());
  const json = (out: string): { ok: boolean; code?: string; held: { version: number | null; state: string }; update: { proceed: boolean } } => JSON.parse(out) as never;

  it('accepts (exit 0, TPM floor raised), refuses replayed, swapped and expired lists (exit 1), reports the network (exit 3); offline after a restart the cached list is enforced', async () => {
    const pub = new RevocationPublisher(join(rig.dir, 'repo'));
    await pub.publish({ kind: 'digest', sha256: sha(pub.v2), reason: 'bricks the radio', reference: 'INC-5' });
    server = await serveRepo(pub.dir);
    const board = await rig.board({ update: { source: server.url } }, 'board-a', pub.dir);
    const config = ['revocations', 'refresh', '--config', board.configPath];

    const first = await edgeseal(...config);
    expect(first.code, first.err).to.equal(EXIT.OK);
    expect(first.out).to.contain('revocation list v1 accepted, TPM floor raised to 1').and.contain('fresh').and.contain('images revoked (1)').and.contain('INC-5');
    expect(await floors(board)).to.include({ revocationVersion: 1 });
    expect((await edgeseal(...config)).out).to.contain('revocation list v1 unchanged');

    const old = join(rig.dir, 'old-stick');
    await cp(pub.dir, old, { recursive: true });
    await pub.publish({ kind: 'min-version', target: `${dirname(S.v1.target)}/*`, version: S.v2.version, reason: 'CVE-2026-0005' });
    const second = await edgeseal(...config, '--json');
    expect(second.code, second.err).to.equal(EXIT.OK);
    expect(json(second.out)).to.deep.include({ ok: true, version: 2, changed: true, floorRaised: true });
    expect(await floors(board)).to.include({ revocationVersion: 2 });

    // an older, validly signed repository on a stick: TUF's own rollback rule refuses it
    const replay = await edgeseal(...config, '--from', old, '--json');
    expect(replay.code).to.equal(EXIT.REFUSED);
    expect(json(replay.out)).to.deep.include({ ok: false, code: 'ROLLBACK' });
    expect(json(replay.out).held).to.include({ version: 2, state: 'fresh' });

    const swapped = join(rig.dir, 'swapped');
    await swappedCopy(pub.dir, swapped);
    // the metadata names the list the promoted set already holds: the mirror's altered copy is never read
    const forged = await edgeseal(...config, '--from', swapped);
    expect(forged.code, forged.err).to.equal(EXIT.OK);
    expect(forged.out).to.contain('revocation list v2 unchanged');

    // a list that expired before it reached the device is never accepted, whatever its version
    await pub.publish({ kind: 'digest', sha256: 'a'.repeat(64) }, { issued: new Date(Date.now() - 40 * 86_400_000), validDays: 1 });
    const expired = await edgeseal(...config, '--json');
    expect(expired.code).to.equal(EXIT.REFUSED);
    expect(json(expired.out)).to.deep.include({ ok: false, code: 'EXPIRED' });
    expect(await floors(board)).to.include({ revocationVersion: 2 });

    await server.close();
    server = undefined;
    const offline = await edgeseal(...config);
    expect(offline.code).to.equal(EXIT.ENVIRONMENT);
    expect(offline.out).to.contain('refresh failed [FETCH_FAILED]').and.contain('keeping list v2');

    // restarted with no network: the cached list (v2, minimum version 1.1.0) refuses the factory image 1.0.0
    await rig.swtpm.restart();
    const dev = await board.open();
    try {
      const boot = await bootSequence(dev, new Date());
      expect(boot).to.include({ action: 'refused', proceed: false, code: 'BELOW_MINIMUM_VERSION' });
      expect(boot.message).to.contain('CVE-2026-0005');
      // the verified metadata now names the expired v3, not the cached v2: still enforced, but no longer
      // authenticated, so updates stay blocked until a list the metadata names is held
      const verifier = await dev.createImageVerifier(new Date(), 'enforce');
      const [v2] = verifier.candidates(new Date()).filter((c) => c.name === S.v2.target);
      expect(verifier.revocation(v2, new Date(), 'update')).to.include({ ok: false, code: 'REVOCATION_UNAUTHENTICATED' });
      expect(verifier.revocationProblem(new Date())?.message).to.contain(`found cached list v2 with sha256 ${dev.revocations.status(new Date()).sha256 ?? '-'}`);
    } finally {
      await dev.close();
    }

    const { entries } = await new DiskOutboxStore(join(board.config.stateDir, 'outbox')).load();
    const refreshes = entries.map((e) => parseEnvelope(e.bytes).event).filter((e) => e.type === 'revocation-refresh');
    expect(refreshes.map((e) => e.code ?? e.verdict)).to.include.members(['ok', 'ROLLBACK', 'EXPIRED', 'FETCH_FAILED']);
    expect(refreshes.find((e) => e.verdict === 'ok')?.revocation).to.include({ version: 1 });
  });

  it('a damaged cache is detected at start, reported at the boot check, and refetched by the next refresh', async () => {
    const pub = new RevocationPublisher(join(rig.dir, 'repo-damaged'));
    await pub.publish({ kind: 'digest', sha256: sha(pub.v2) });
    const board = await rig.board({}, 'board-a', pub.dir);
    const config = ['revocations', 'refresh', '--config', board.configPath];
    expect((await edgeseal(...config)).code).to.equal(EXIT.OK);
    const cache = join(board.config.stateDir, 'revocations', 'cache.json');
    await writeFile(cache, '{"format":"edgeseal-revocation-cache","formatVersion":1,"highestVersion":1,"list":{"length":3}}');
    const dev = await board.open();
    try {
      expect(dev.revocations.status(new Date())).to.include({ state: 'never', highestVersion: 1 });
      expect(await bootSequence(dev, new Date())).to.include({ action: 'verified' });
    } finally {
      await dev.close();
    }
    const { entries } = await new DiskOutboxStore(join(board.config.stateDir, 'outbox')).load();
    const damaged = entries.map((e) => parseEnvelope(e.bytes).event).find((e) => e.type === 'revocation-refresh' && e.code === 'STORAGE_ERROR');
    expect(damaged?.detail).to.contain('is damaged');
    const again = await edgeseal(...config, '--json');
    expect(again.code, again.err).to.equal(EXIT.OK);
    expect(json(again.out)).to.deep.include({ ok: true, version: 1 });
    expect(json(again.out).held).to.include({ version: 1, state: 'fresh' });
  });

  // H2: tuf-js trusts the root.json in the device's metadata cache; an attacker who replaces it and serves
  // their own repository must not get a list accepted, nor the TPM floor raised.
  it('an attacker root.json in the metadata cache and an attacker mirror: the list is refused, the TPM floor and the cached list unchanged', async () => {
    const pub = new RevocationPublisher(join(rig.dir, 'repo-genuine'));
    await pub.publish({ kind: 'digest', sha256: sha(pub.v2) });
    const board = await rig.board({}, 'board-a', pub.dir);
    const config = ['revocations', 'refresh', '--config', board.configPath];
    expect((await edgeseal(...config)).code).to.equal(EXIT.OK);
    expect(await floors(board)).to.include({ revocationVersion: 1 });

    const evil = new RevocationPublisher(join(rig.dir, 'repo-attacker'), 'attacker');
    for (const c of ['a', 'b', 'c']) await evil.publish({ kind: 'digest', sha256: c.repeat(64) });
    await cp(join(evil.dir, 'metadata', '1.root.json'), join(agentPaths(board.config.stateDir).metadataDir, 'root.json'));
    // the refresh starts from the root chain verified from the pinned root, not the root.json on disk
    const r = await edgeseal(...config, '--from', evil.dir, '--json');
    expect(r.code, r.err).to.equal(EXIT.REFUSED);
    expect(json(r.out)).to.deep.include({ ok: false, code: 'SIGNATURE_THRESHOLD' });
    expect(json(r.out).held).to.include({ version: 1 });
    expect(await floors(board)).to.include({ revocationVersion: 1 });
  });

  it('says why with a usage error when there is nowhere to refresh from', async () => {
    const pub = new RevocationPublisher(join(rig.dir, 'repo-usage'));
    await pub.publish();
    const board = await rig.board({}, 'board-a', pub.dir);
    const raw = JSON.parse(await readFile(board.configPath, 'utf8')) as { update: Record<string, unknown> };
    delete raw.update.source;
    await writeFile(board.configPath, JSON.stringify(raw));
    const r = await edgeseal('revocations', 'refresh', '--config', board.configPath);
    expect(r.code).to.equal(EXIT.USAGE);
    expect(r.err).to.contain('expected --from DIR|URL or update.source');
  });
});
