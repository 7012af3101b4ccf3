import { expect } from 'chai';
import { mkdtemp, readFile, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CACHE_FILE, RevocationCache } from '../../src/revocation/cache.js';
import { checkRevocation } from '../../src/revocation/policy.js';
import { expectCodeAsync } from '../helpers/expect-code.js';
import { at, KEY_A, makeList, signedBytes } from './make-list.js';

const NOW = at('2026-01-10T00:00:00Z');
const opts = async (): Promise<{ stateDir: string; graceDays: number }> => ({ stateDir: await mkdtemp(join(tmpdir(), 'es-revcache-')), graceDays: 7 });
const subject = { targetName: 'fw.bin', sha256: 'e'.repeat(64), version: '1.0.0', hardwareId: 'board-a', keyids: [KEY_A] };

async function seeded(version = 2): Promise<{ o: { stateDir: string; graceDays: number }; path: string }> {
  const o = await opts();
  const cache = await RevocationCache.open(o);
  const { bytes, info } = signedBytes(makeList({ version, keys: [{ keyid: KEY_A, reason: 'leaked' }] }));
  await cache.accept(bytes, info, NOW);
  return { o, path: join(o.stateDir, CACHE_FILE) };
}

describe('RevocationCache', () => {
  it('a missing cache means never fetched', async () => {
    const cache = await RevocationCache.open(await opts());
    expect(cache.status(NOW)).to.include({ state: 'never', cacheProblem: undefined });
  });

  it('after a restart (offline) the cached list is still enforced', async () => {
    const { o } = await seeded();
    const restarted = await RevocationCache.open(o);
    const status = restarted.status(NOW);
    expect(status).to.include({ state: 'fresh', version: 2, cacheProblem: undefined });
    expect(checkRevocation(status.list!, subject)?.code).to.equal('KEY_REVOKED');
  });

  it('a replayed older list is refused after a restart too, and the cache is not touched', async () => {
    const { o, path } = await seeded(3);
    const before = await readFile(path);
    const restarted = await RevocationCache.open(o);
    const old = signedBytes(makeList({ version: 2 }));
    await expectCodeAsync(() => restarted.accept(old.bytes, old.info, NOW), 'ROLLBACK');
    expect(await readFile(path)).to.deep.equal(before);
  });

  it('a forged list (bytes not matching the verified info) is refused and the good one kept on disk', async () => {
    const { o } = await seeded(2);
    const cache = await RevocationCache.open(o);
    const good = signedBytes(makeList({ version: 3 }));
    const forged = signedBytes(makeList({ version: 3, minimumVersions: [{ target: 'x', version: '9.9.9' }] }));
    await expectCodeAsync(() => cache.accept(forged.bytes, good.info, NOW), 'LENGTH_MISMATCH');
    expect((await RevocationCache.open(o)).status(NOW).version).to.equal(2);
  });

  describe('a damaged cache file is detected, moved aside and reported, never silently ignored', () => {
    const damage: [string, (raw: string) => string][] = [
      ['truncated', (raw) => raw.slice(0, raw.length / 2)],
      ['list bytes altered', (raw) => raw.replace(/"base64": "(.)/, (_m, c: string) => `"base64": "${c === 'A' ? 'B' : 'A'}`)],
      ['wrong format', (raw) => raw.replace('edgeseal-revocation-cache', 'something-else')],
      ['list swapped for a well-formed one without the revocation', (raw) => raw.replace(/"base64": "[^"]+"/, `"base64": "${Buffer.from(signedBytes(makeList({ version: 4 })).bytes).toString('base64')}"`)],
      ['negative highest version', (raw) => raw.replace(/"highestVersion": \d+/, '"highestVersion": -1')],
      ['a newer cache format', (raw) => raw.replace('"formatVersion": 1', '"formatVersion": 2')],
      ['not JSON at all', () => '\u0000\u0001binary'],
      ['list entry missing fields', (raw) => raw.replace(/"sha256": "[0-9a-f]+",/, '')],
    ];
    for (const [name, corrupt] of damage) {
      it(name, async () => {
        const { o, path } = await seeded(4);
        await writeFile(path, corrupt(await readFile(path, 'utf8')));
        const cache = await RevocationCache.open(o);
        const status = cache.status(NOW);
        expect(status.state).to.equal('never');
        expect(status.cacheProblem?.code).to.equal('STORAGE_ERROR');
        expect(await readdir(join(o.stateDir, 'revocations'))).to.include('cache.json.corrupt');
        // Refetching recovers and clears the problem.
        const next = signedBytes(makeList({ version: 5 }));
        await cache.accept(next.bytes, next.info, NOW);
        expect(cache.status(NOW)).to.include({ state: 'fresh', version: 5, cacheProblem: undefined });
      });
    }

    it('a read-only open (status) reports the damage but moves and writes nothing', async () => {
      const { o, path } = await seeded(4);
      await writeFile(path, 'garbage');
      const cache = await RevocationCache.open({ ...o, readOnly: true });
      expect(cache.status(NOW).cacheProblem?.code).to.equal('STORAGE_ERROR');
      expect(await readFile(path, 'utf8')).to.equal('garbage');
      expect(await readdir(join(o.stateDir, 'revocations'))).to.deep.equal(['cache.json']);
    });

    it('keeps the floor when only the list is damaged, so the refetch cannot roll back', async () => {
      const { o, path } = await seeded(4);
      await writeFile(path, (await readFile(path, 'utf8')).replace(/"base64": "(.)/, (_m, c: string) => `"base64": "${c === 'A' ? 'B' : 'A'}`));
      const cache = await RevocationCache.open(o);
      expect(cache.status(NOW).highestVersion).to.equal(4);
      const old = signedBytes(makeList({ version: 3 }));
      await expectCodeAsync(() => cache.accept(old.bytes, old.info, NOW), 'ROLLBACK');
      expect((await RevocationCache.open(o)).status(NOW).highestVersion).to.equal(4);
    });

    it('reports a cache older than the external (TPM) floor as ROLLBACK', async () => {
      const { o } = await seeded(2);
      const cache = await RevocationCache.open({ ...o, floorVersion: 5 });
      expect(cache.status(NOW).cacheProblem?.code).to.equal('ROLLBACK');
      expect(cache.status(NOW).highestVersion).to.equal(5);
    });
  });

  it('an oversized cache file is damage, not something to parse', async () => {
    const { o, path } = await seeded(2);
    await writeFile(path, Buffer.alloc(3 * 1024 * 1024, 0x20));
    const cache = await RevocationCache.open(o);
    expect(cache.status(NOW).cacheProblem?.message).to.contain('expected at most');
  });

  it('an unreadable state dir is a STORAGE_ERROR, not an empty cache', async () => {
    const o = await opts();
    await writeFile(join(o.stateDir, 'revocations'), 'not a directory');
    await expectCodeAsync(() => RevocationCache.open(o), 'STORAGE_ERROR');
  });
});
