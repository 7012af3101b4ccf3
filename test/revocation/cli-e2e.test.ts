import { expect } from 'chai';
import { copyFile, cp, mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT } from '../../src/cli/command.js';
import { asEdgesealError } from '../../src/core/errors.js';
import { RevocationCache } from '../../src/revocation/cache.js';
import { checkRevocation } from '../../src/revocation/policy.js';
import { fetchViaTuf } from '../../src/revocation/tuf-source.js';
import { createDeviceUpdater, sourceAt } from '../../src/tuf/updater.js';
import { runCli as edgeseal } from '../helpers/run-cli.js';

const LEAKED = 'f'.repeat(64);

// The whole chain with the shipped pieces: `edgeseal repo …` publishes to a directory (a USB stick), the
// device's own updater factory reads it with the folder fetcher, the device stores the list in the state dir.
describe('revocation end to end: repo revoke → repo publish → device refresh → revocations status', () => {
  it('publishes, refreshes, survives a restart, and refuses a replayed older stick', async () => {
    const work = await mkdtemp(join(tmpdir(), 'es-rev-chain-'));
    const [wd, stick, stateDir, metadataDir] = [join(work, 'wd'), join(work, 'stick'), join(work, 'state'), join(work, 'tuf')];
    const ok = async (...argv: string[]): Promise<string> => {
      const r = await edgeseal(...argv);
      expect(r.code, `${argv.join(' ')}: ${r.err}`).to.equal(EXIT.OK);
      return r.out;
    };
    await ok('repo', 'init', '--dir', wd);
    await ok('repo', 'revoke', '--dir', wd, '--key', LEAKED, '--reason', 'builder key leaked', '--reference', 'INC-77');
    await ok('repo', 'publish', '--dir', wd, '--out', stick);
    const oldStick = join(work, 'stick-v1');
    await cp(stick, oldStick, { recursive: true });

    // Provisioning put the initial root in the device's TUF metadata dir.
    await mkdir(metadataDir);
    await copyFile(join(stick, 'metadata', '1.root.json'), join(metadataDir, 'root.json'));
    let source = stick;
    type Refreshed = { ok: true; version: number } | { ok: false; code: string };
    // The device side at library level: fetch through TUF, accept into the cache (the agent adds floors and reports).
    const device = async (): Promise<{ cache: RevocationCache; refresh: () => Promise<Refreshed> }> => {
      const cache = await RevocationCache.open({ stateDir, graceDays: 7 });
      const fetchVerified = fetchViaTuf(() => createDeviceUpdater({ metadataDir, source: sourceAt(source) }).updater, stateDir);
      const refresh = async (): Promise<Refreshed> => {
        try {
          const { bytes, info } = await fetchVerified();
          return { ok: true, version: (await cache.accept(bytes, info, new Date())).version };
        } catch (err) {
          return { ok: false, code: asEdgesealError(err).code };
        }
      };
      return { cache, refresh };
    };
    const image = { targetName: 'fw/board-a.bin', sha256: 'e'.repeat(64), version: '1.0.0', hardwareId: 'board-a', keyids: [LEAKED] };

    const first = await device();
    expect(await first.refresh()).to.deep.equal({ ok: true, version: 1 });
    expect(checkRevocation(first.cache.status(new Date()).list!, image)?.code).to.equal('KEY_REVOKED');

    await ok('repo', 'revoke', '--dir', wd, '--min-version', 'fw/*=2.0.0');
    await ok('repo', 'publish', '--dir', wd, '--out', stick);
    expect(await first.refresh()).to.deep.equal({ ok: true, version: 2 });

    // Restarted offline: the cached list is still enforced, and status says so.
    source = join(work, 'nowhere');
    const restarted = await device();
    expect(await restarted.refresh()).to.deep.equal({ ok: false, code: 'FETCH_FAILED' });
    const status = restarted.cache.status(new Date());
    expect(status).to.include({ state: 'fresh', version: 2 });
    expect(checkRevocation(status.list!, { ...image, keyids: ['0'.repeat(64)] })?.code).to.equal('BELOW_MINIMUM_VERSION');
    const shown = await ok('revocations', 'status', '--state-dir', stateDir);
    expect(shown).to.contain('fresh v2').and.contain(LEAKED).and.contain('INC-77').and.contain('fw/* ≥ 2.0.0');

    // An older, validly signed stick is refused (by TUF's own rollback rule here) and changes nothing.
    source = oldStick;
    expect(await restarted.refresh()).to.deep.equal({ ok: false, code: 'ROLLBACK' });
    expect((await device()).cache.status(new Date()).version).to.equal(2);
  });
});
