import { expect } from 'chai';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT } from '../../src/cli/command.js';
import { generateKey } from '../../src/crypto/ed25519.js';
import { publishedLayout } from '../../src/repo/published-layout.js';
import { Repository } from '../../src/repo/repository.js';
import { blobPath, loadWorkdir, saveWorkdir, storeKey } from '../../src/repo/workdir.js';
import { parseRevocationList } from '../../src/revocation/list.js';
import { revocationTargetInfo } from '../../src/revocation/tuf-source.js';
import { loadTrustedMetadata } from '../../src/tuf/offline/load-trusted.js';
import { runCli as run } from '../helpers/run-cli.js';

const NOW = '2026-03-01T12:00:00Z';

// A publisher workdir as `edgeseal repo init` leaves it: repo.json plus one private key per role.
async function workdir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'es-revoke-cli-'));
  const keys = { root: [generateKey()], targets: [generateKey()], snapshot: [generateKey()], timestamp: [generateKey()] };
  for (const [role, ks] of Object.entries(keys)) await storeKey(dir, role, ks[0]);
  await saveWorkdir(dir, Repository.init({ keys }));
  return dir;
}

describe('edgeseal repo revoke / repo revocations', () => {
  it('creates the revocations role on first use, bumps the list version per revoke, and lists the entries', async () => {
    const dir = await workdir();
    const first = await run('repo', 'revoke', '--dir', dir, '--key', 'A'.repeat(64), '--reason', 'builder key leaked', '--reference', 'INC-4', '--now', NOW);
    expect(first.code, first.err).to.equal(EXIT.OK);
    expect(first.out).to.contain('created role revocations').and.contain('revocation list v1');
    expect((await readdir(join(dir, 'keys'))).filter((n) => n.startsWith('revocations-'))).to.have.length(1);
    expect((await run('repo', 'revoke', '--dir', dir, '--digest', `sha256:${'b'.repeat(64)}`, '--now', NOW)).out).to.contain('revocation list v2');
    const third = await run('repo', 'revoke', '--dir', dir, '--min-version', 'fw/board-a/*=2.1.0', '--hardware-id', 'board-a', '--valid-days', '10', '--now', NOW);
    expect(third.out).to.contain('v3').and.contain('expires 2026-03-11T12:00:00Z').and.not.contain('created role');
    const listed = await run('repo', 'revocations', '--dir', dir);
    expect(listed.out).to.contain('v3').and.contain('staged, not signed yet');
    expect(listed.out).to.contain('a'.repeat(64)).and.contain('INC-4').and.contain(`sha256:${'b'.repeat(64)}`).and.contain('fw/board-a/* on board-a ≥ 2.1.0');
    const json = JSON.parse((await run('repo', 'revocations', '--dir', dir, '--json')).out) as { version: number; keys: unknown[] };
    expect(json.version).to.equal(3);
  });

  it('warns (but still revokes) when the key id is not a key of any role in the repository', async () => {
    const dir = await workdir();
    const unknown = await run('repo', 'revoke', '--dir', dir, '--key', 'd'.repeat(64));
    expect(unknown.code).to.equal(EXIT.OK);
    expect(unknown.err).to.contain('not a key of any role');
    const targetsKey = (await loadWorkdir(dir, { keys: false })).roleEntry('targets').entry.keyids[0];
    const known = await run('repo', 'revoke', '--dir', dir, '--key', targetsKey);
    expect(known.code).to.equal(EXIT.OK);
    expect(known.err).to.equal('');
  });

  it('after signing, a device verifier vouches for exactly the list bytes the workdir stages', async () => {
    const dir = await workdir();
    await run('repo', 'revoke', '--dir', dir, '--key', 'c'.repeat(64), '--now', NOW);
    const repo = await loadWorkdir(dir);
    repo.sign(new Date(NOW));
    await saveWorkdir(dir, repo);
    expect((await run('repo', 'revocations', '--dir', dir)).out).to.contain('signed');
    const layout = publishedLayout(repo);
    const file = (suffix: string): Uint8Array => layout.metadata.find((f) => f.path.endsWith(suffix))!.bytes;
    const trusted = loadTrustedMetadata(
      { initialRoot: file('1.root.json'), rootChain: [], timestamp: file('timestamp.json'), snapshot: file('.snapshot.json'), targets: file('.targets.json'), delegated: { revocations: file('.revocations.json') } },
      { now: new Date(NOW), expiry: 'enforce' },
    );
    const info = revocationTargetInfo(trusted, new Date(NOW));
    const list = parseRevocationList(await readFile(blobPath(dir, info.sha256)));
    expect(list.keys).to.deep.equal([{ keyid: 'c'.repeat(64) }]);
    expect(layout.targets.map((t) => t.name)).to.deep.equal(['revocations/list.json']);
  });

  it('refuses a staged list whose blob was altered, rather than building on it', async () => {
    const dir = await workdir();
    await run('repo', 'revoke', '--dir', dir, '--key', 'c'.repeat(64), '--now', NOW);
    const repo = await loadWorkdir(dir, { keys: false });
    const sha = (repo.envelope('revocations').signed as { targets: Record<string, { hashes: { sha256: string } }> }).targets['revocations/list.json'].hashes.sha256;
    await writeFile(blobPath(dir, sha), '{"_type":"edgeseal-revocations"}');
    const r = await run('repo', 'revoke', '--dir', dir, '--renew', '--now', NOW);
    expect(r.code).to.equal(EXIT.REFUSED);
    expect(r.err).to.contain('[DIGEST_MISMATCH]');
  });

  describe('usage errors say what is wrong and exit 2', () => {
    const cases: [string, string[], string][] = [
      ['no entry kind', [], 'exactly one of'],
      ['two entry kinds', ['--key', 'a'.repeat(64), '--renew'], '--key --renew'],
      ['a short key id', ['--key', 'abc'], '64 hex digits'],
      ['a digest without hex', ['--digest', 'sha256:xyz'], 'sha256:<64 hex digits>'],
      ['a min-version without a semver', ['--min-version', 'fw=latest'], 'TARGET=SEMVER'],
      ['a hardware id without min-version', ['--key', 'a'.repeat(64), '--hardware-id', 'b'], 'only applies to --min-version'],
      ['a reason on renew', ['--renew', '--reason', 'x'], '--renew adds none'],
      ['zero validity', ['--renew', '--valid-days', '0'], 'valid-days'],
    ];
    for (const [name, args, says] of cases) {
      it(name, async () => {
        const dir = await workdir();
        const r = await run('repo', 'revoke', '--dir', dir, ...args);
        expect(r.code).to.equal(EXIT.USAGE);
        expect(r.err).to.contain('[USAGE]').and.contain(says);
        expect(r.err).to.not.contain('    at '); // never a stack trace as UI
      });
    }

    it('revoking the same key twice', async () => {
      const dir = await workdir();
      await run('repo', 'revoke', '--dir', dir, '--key', 'a'.repeat(64));
      const r = await run('repo', 'revoke', '--dir', dir, '--key', 'a'.repeat(64));
      expect(r.code).to.equal(EXIT.USAGE);
      expect(r.err).to.contain('already revoked');
    });
  });
});
