import { expect } from 'chai';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT } from '../../src/cli/command.js';
import { CACHE_FILE, RevocationCache } from '../../src/revocation/cache.js';
import { at, KEY_A, makeList, signedBytes } from './make-list.js';
import { runCli as run } from '../helpers/run-cli.js';

// A state dir whose cache holds list v3 (issued 2026-01-01, expires 2026-02-01).
async function stateDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'es-revstatus-'));
  const cache = await RevocationCache.open({ stateDir: dir, graceDays: 7 });
  const { bytes, info } = signedBytes(makeList({ version: 3, keys: [{ keyid: KEY_A, reference: 'INC-9' }] }));
  await cache.accept(bytes, info, at('2026-01-02T00:00:00Z'));
  return dir;
}

describe('edgeseal revocations status', () => {
  it('fresh: version, age, both operations proceed, entries listed, exit 0', async () => {
    const r = await run('revocations', 'status', '--state-dir', await stateDir(), '--now', '2026-01-11T00:00:00Z');
    expect(r.code).to.equal(EXIT.OK);
    expect(r.out).to.contain('revocation list: fresh v3').and.contain('issued 10.0 days ago').and.contain('INC-9');
    expect(r.out).to.match(/boot: {3}proceeds \(ok\)/).and.match(/update: proceeds \(ok\)/);
  });

  it('past grace: updates blocked (exit 1), boot proceeds with an alarm', async () => {
    const r = await run('revocations', 'status', '--state-dir', await stateDir(), '--now', '2026-03-01T00:00:00Z', '--json');
    expect(r.code).to.equal(EXIT.REFUSED);
    expect(JSON.parse(r.out)).to.deep.include({ state: 'expired', version: 3, highestVersion: 3, boot: 'alarm', update: 'blocked', problem: null });
  });

  it('a longer grace period keeps the same list usable', async () => {
    const r = await run('revocations', 'status', '--state-dir', await stateDir(), '--now', '2026-03-01T00:00:00Z', '--grace-days', '60');
    expect(r.code).to.equal(EXIT.OK);
    expect(r.out).to.contain('revocation list: stale v3');
  });

  it('never fetched: updates proceed with a warning under the default policy (onNever=allow)', async () => {
    const r = await run('revocations', 'status', '--state-dir', await mkdtemp(join(tmpdir(), 'es-revstatus-')));
    expect(r.code).to.equal(EXIT.OK);
    expect(r.out).to.contain('revocation list: never').and.match(/update: proceeds \(warn\).*onNever=allow/);
  });

  it('--config judges with the device policy: onNever=require blocks updates, onExpired overrides apply', async () => {
    const config = async (stateDir: string, revocation: object): Promise<string> => {
      const path = join(stateDir, 'config.json');
      await writeFile(path, JSON.stringify({ deviceId: 'dev-1', hardwareId: 'board-a', stateDir, images: [{ target: 'fw/a.bin', path: '/x/a.bin', kind: 'firmware' }], revocation }));
      return path;
    };
    const never = await run('revocations', 'status', '--config', await config(await mkdtemp(join(tmpdir(), 'es-revstatus-')), { onNever: 'require' }));
    expect(never.code).to.equal(EXIT.REFUSED);
    expect(never.out).to.contain('blocked [REVOCATION_STALE]');
    const overridden = await config(await stateDir(), { onExpired: { update: 'allow-with-warning', boot: 'block' } });
    const r = await run('revocations', 'status', '--config', overridden, '--now', '2026-03-01T00:00:00Z', '--json');
    expect(r.code).to.equal(EXIT.OK);
    expect(JSON.parse(r.out)).to.deep.include({ state: 'expired', boot: 'blocked', update: 'warn' });
  });

  it('a damaged cache is reported with its code (exit 3) and left in place', async () => {
    const dir = await stateDir();
    await writeFile(join(dir, CACHE_FILE), '{"format":"edgeseal-revocation-cache","formatVersion":1,"highestVersion":3,"list":{}}');
    const r = await run('revocations', 'status', '--state-dir', dir);
    expect(r.code).to.equal(EXIT.ENVIRONMENT);
    expect(r.err).to.contain('cache damaged [STORAGE_ERROR]');
    expect(r.out).to.contain('highest accepted version 3');
    expect((await RevocationCache.open({ stateDir: dir, graceDays: 7, readOnly: true })).status(at('2026-01-05T00:00:00Z')).cacheProblem?.code).to.equal('STORAGE_ERROR');
  });

  it('requires exactly one of --config and --state-dir', async () => {
    for (const argv of [[], ['--config', '/c.json', '--state-dir', '/s']]) {
      const r = await run('revocations', 'status', ...argv);
      expect(r.code).to.equal(EXIT.USAGE);
      expect(r.err).to.contain('expected --config FILE, or --state-dir DIR');
    }
  });
});
