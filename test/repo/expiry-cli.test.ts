import { expect } from 'chai';
import { readdir, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { EXIT } from '../../src/cli/command.js';
import { edgeseal, readSnapshot, readTimestamp, TARGET_ARGS, tempDir, writeImage } from './cli-helpers.js';

const T0 = Date.parse('2026-03-01T00:00:00Z');
const at = (hours: number): string => new Date(T0 + hours * 3600_000).toISOString();

describe('expiry that cannot surprise: repo status --check, repo refresh, the device EXPIRED message', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let dir: string;
  let out: string;
  beforeEach(async () => {
    tmp = await tempDir();
    dir = join(tmp.path, 'work');
    out = join(tmp.path, 'pub');
    // timestamp 1 day, snapshot 7 days (defaults), targets 90 days, root 365 days
    expect((await edgeseal('repo', 'init', '--dir', dir)).code).to.equal(EXIT.OK);
    await writeImage(join(tmp.path, 'fw.bin'), 100, 1);
    expect((await edgeseal('repo', 'add-target', join(tmp.path, 'fw.bin'), '--dir', dir, '--name', 'fw/a.bin', ...TARGET_ARGS)).code).to.equal(EXIT.OK);
    expect((await edgeseal('repo', 'publish', '--dir', dir, '--out', out, '--now', at(0))).code).to.equal(EXIT.OK);
  });
  afterEach(() => tmp.cleanup());

  const check = (now: string, ...extra: string[]) => edgeseal('repo', 'status', '--dir', dir, '--now', now, '--check', ...extra);

  it('exits 0 when every role is fine, 1 listing the roles when expiring within the window or expired', async () => {
    const fine = await check(at(1), '--within', '12h');
    expect(fine.code).to.equal(EXIT.OK);
    expect(fine.err).to.deep.equal([]);

    const expiring = await check(at(1), '--within', '48h');
    expect(expiring.code).to.equal(EXIT.REFUSED);
    expect(expiring.err[0]).to.match(/^check: timestamp v1 expires in 23h/);
    expect(expiring.err.at(-1)).to.match(/^check failed: timestamp;/);

    const expired = await check(at(24 * 8));
    expect(expired.code).to.equal(EXIT.REFUSED);
    expect(expired.err.filter((l) => l.includes('EXPIRED')).map((l) => l.split(' ')[1])).to.deep.equal(['timestamp', 'snapshot']);

    expect((await edgeseal('repo', 'status', '--dir', dir, '--now', at(24 * 8))).code, 'without --check status stays informational').to.equal(EXIT.OK);
    expect((await edgeseal('repo', 'status', '--dir', dir, '--within', '2h')).code).to.equal(EXIT.USAGE);
    expect((await check(at(1), '--within', '2 days')).code).to.equal(EXIT.USAGE);
  });

  it('repo refresh re-signs timestamp every run and snapshot only when due, and publishes', async () => {
    const r1 = await edgeseal('repo', 'refresh', '--dir', dir, '--out', out, '--now', at(20));
    expect(r1.code, r1.err.join('\n')).to.equal(EXIT.OK);
    expect(r1.out.filter((l) => l.startsWith('signed')).map((l) => l.split(/\s+/)[1])).to.deep.equal(['timestamp']);
    expect((await readTimestamp(join(out, 'metadata', 'timestamp.json'))).signed.version).to.equal(2);
    expect((await check(at(30))).code).to.equal(EXIT.OK);

    const r2 = await edgeseal('repo', 'refresh', '--dir', dir, '--out', out, '--now', at(24 * 4)); // 3 of 7 days left: due
    expect(r2.out.filter((l) => l.startsWith('signed')).map((l) => l.split(/\s+/)[1])).to.deep.equal(['snapshot', 'timestamp']);
    expect((await readSnapshot(join(out, 'metadata', '2.snapshot.json'))).signed.expires).to.equal(new Date(T0 + 11 * 86400_000).toISOString().replace('.000', ''));

    const fw = join(tmp.path, 'fw.bin');
    const ok = await edgeseal('verify', '--metadata', join(out, 'metadata'), '--target', 'fw/a.bin', '--file', fw, '--now', at(24 * 4 + 1));
    expect(ok.code, ok.out.join('\n')).to.equal(EXIT.OK);
  });

  it('repo refresh re-signs the rollouts role when due, and reports a due one whose key is not at hand', async () => {
    expect((await edgeseal('repo', 'rollout', 'fw/a.bin', '--dir', dir, '--percent', '10', '--now', at(1))).code).to.equal(EXIT.OK);
    expect((await edgeseal('repo', 'publish', '--dir', dir, '--out', out, '--now', at(1))).code).to.equal(EXIT.OK);
    const signedRoles = (r: { out: string[] }): string[] => r.out.filter((l) => l.startsWith('signed')).map((l) => l.split(/\s+/)[1]);
    expect(signedRoles(await edgeseal('repo', 'refresh', '--dir', dir, '--out', out, '--now', at(20)))).to.deep.equal(['timestamp']);

    // rollouts expires like targets (90 days): due once half has passed
    const due = await edgeseal('repo', 'refresh', '--dir', dir, '--out', out, '--now', at(24 * 46));
    expect(due.code, due.err.join('\n')).to.equal(EXIT.OK);
    expect(signedRoles(due)).to.deep.equal(['rollouts', 'snapshot', 'timestamp']);
    expect((JSON.parse(await readFile(join(out, 'metadata', '2.rollouts.json'), 'utf8')) as { signed: { expires: string } }).signed.expires).to.equal(new Date(T0 + (46 + 90) * 86400_000).toISOString().replace('.000', ''));

    const keys = join(dir, 'keys');
    const rolloutKey = (await readdir(keys)).find((n) => n.startsWith('rollouts-'))!;
    await rename(join(keys, rolloutKey), join(tmp.path, rolloutKey));
    const keyless = await edgeseal('repo', 'refresh', '--dir', dir, '--out', out, '--now', at(24 * 46 + 24 * 46));
    expect(keyless.code, keyless.err.join('\n')).to.equal(EXIT.OK);
    expect(signedRoles(keyless)).to.deep.equal(['snapshot', 'timestamp']);
    expect(keyless.err.join('\n')).to.contain('rollouts is due').and.contain('online key is not at hand');
  });

  it('refuses to refresh while another role has unsigned changes (it would publish what nobody signed off)', async () => {
    expect((await edgeseal('repo', 'remove-target', '--dir', dir, '--name', 'fw/a.bin')).code).to.equal(EXIT.OK);
    const r = await edgeseal('repo', 'refresh', '--dir', dir, '--out', out, '--now', at(20));
    expect(r.code).to.equal(EXIT.REFUSED);
    expect(r.err.join('\n')).to.contain('targets');
    expect((await readTimestamp(join(out, 'metadata', 'timestamp.json'))).signed.version).to.equal(1);
  });

  it("the device's EXPIRED refusal names the role and the publisher-side fix", async () => {
    const v = await edgeseal('verify', '--metadata', join(out, 'metadata'), '--target', 'fw/a.bin', '--file', join(tmp.path, 'fw.bin'), '--now', at(25));
    expect(v.code).to.equal(EXIT.REFUSED);
    expect(v.out[0]).to.match(/^REFUSED \[EXPIRED\] timestamp: /).and.contain("'edgeseal repo refresh'");
  });
});
