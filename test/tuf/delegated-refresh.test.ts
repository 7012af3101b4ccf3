import { expect } from 'chai';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { refreshDelegatedRoles } from '../../src/tuf/delegated-refresh.js';
import { readMetadataDir } from '../../src/tuf/metadata-files.js';
import { delegationsToFetch } from '../../src/tuf/offline/delegations.js';
import { loadTrustedMetadata } from '../../src/tuf/offline/load-trusted.js';
import type { TrustedMetadata } from '../../src/tuf/offline/types.js';
import { findTarget, listTargets } from '../../src/tuf/offline/verify-image.js';
import { createDeviceUpdater, initMetadataDir, sourceAt } from '../../src/tuf/updater.js';
import { expectCode } from '../helpers/expect-code.js';
import { addImage, after, customFor, editJson, imageOf, resign, testKey } from '../helpers/tuf-repo.js';
import { publishTestRepo } from './published.js';
import { serveDir, type RepoServer } from './repo-server.js';

const APP = 'apps/builder/app.bin';
const APP2 = 'apps/builder/app-2.bin';
const app = (version: string): Record<string, unknown> => customFor({ kind: 'app', version });

describe('tuf delegated roles refreshed into the device cache (5.6.7)', () => {
  let published: Awaited<ReturnType<typeof publishTestRepo>>;
  let server: RepoServer;
  let metadataDir: string;
  let initialRoot: Uint8Array;

  beforeEach(async () => {
    published = await publishTestRepo();
    published.repo.delegate({ name: 'builder', paths: ['apps/builder/*'], keys: [testKey('builder')] });
    addImage(published.repo, APP, imageOf('builder-app', 2000), app('1.0.0'), 'builder');
    published.repo.sign(new Date());
    await published.publish();
    server = await serveDir(published.dir);
    metadataDir = join(await mkdtemp(join(tmpdir(), 'edgeseal-device-')), 'metadata');
    initialRoot = await readFile(join(published.dir, 'metadata', '1.root.json'));
    await initMetadataDir(metadataDir, initialRoot, true);
  });
  afterEach(() => server.close());

  // The agent's sequence: tuf-js refresh (top-level roles), then the delegated roles.
  const refresh = async (now = new Date()): Promise<Awaited<ReturnType<typeof refreshDelegatedRoles>>> => {
    const client = createDeviceUpdater({ metadataDir, source: sourceAt(server.url), keepRootHistory: true });
    await client.refresh();
    return refreshDelegatedRoles({ metadataDir, initialRoot, fetchMetadata: client.fetchMetadata, now });
  };
  const trusted = async (): Promise<TrustedMetadata> => loadTrustedMetadata(await readMetadataDir(metadataDir, { initialRoot }), { now: new Date(), expiry: 'enforce' });
  const builderVersion = async (): Promise<number> => (JSON.parse(await readFile(join(metadataDir, 'builder.json'), 'utf8')) as { signed: { version: number } }).signed.version;
  const publishBuilderRelease = async (name: string, version: string): Promise<void> => {
    addImage(published.repo, name, imageOf(name, 2000), app(version), 'builder');
    published.repo.sign(new Date());
    await published.publish();
  };

  it('tuf-js refresh alone leaves the delegated image out of the cache; after the delegated refresh listTargets has it', async () => {
    await createDeviceUpdater({ metadataDir, source: sourceAt(server.url) }).refresh();
    expect(listTargets(await trusted()).map((t) => t.name)).to.not.include(APP);

    const result = await refresh();
    expect(result).to.deep.equal({ updated: ['builder'], failed: [] });
    const listed = listTargets(await trusted()).find((t) => t.name === APP);
    expect(listed?.signedBy.role).to.equal('builder');
    expect(listed?.custom.version).to.equal('1.0.0');
  });

  it('replaces the cached builder role when the builder publishes v2 under a new snapshot, and fetches nothing when current', async () => {
    await refresh();
    expect(await builderVersion()).to.equal(1);
    await publishBuilderRelease(APP2, '2.0.0');
    // the stale copy is what a lookup through the builder would hit with only tuf-js's refresh
    await createDeviceUpdater({ metadataDir, source: sourceAt(server.url) }).refresh();
    const stale = await trusted();
    expectCode(() => findTarget(stale, APP2, new Date()), 'ROLLBACK');

    expect(await refresh()).to.deep.equal({ updated: ['builder'], failed: [] });
    expect(await builderVersion()).to.equal(2);
    expect(listTargets(await trusted()).map((t) => t.name)).to.include.members([APP, APP2]);
    const before = server.requests.length;
    expect(await refresh()).to.deep.equal({ updated: [], failed: [] });
    expect(server.requests.slice(before).some((p) => p.includes('builder'))).to.equal(false);
  });

  it('walks nested delegations level by level', async () => {
    published.repo.delegate({ name: 'team', parent: 'builder', paths: ['apps/builder/team-*'], keys: [testKey('team')], terminating: false });
    addImage(published.repo, 'apps/builder/team-t.bin', imageOf('team', 500), app('0.1.0'), 'team');
    published.repo.sign(new Date());
    await published.publish();
    expect((await refresh()).updated).to.deep.equal(['builder', 'team']);
    expect(findTarget(await trusted(), 'apps/builder/team-t.bin', new Date()).signedBy.role).to.equal('team');
    // the depth cap: one level below 'targets' names only the builder
    const files = await readMetadataDir(metadataDir, { initialRoot });
    const withoutTeam = loadTrustedMetadata({ ...files, delegated: { builder: files.delegated.builder } }, { now: new Date(), expiry: 'enforce' });
    expect(delegationsToFetch(withoutTeam, 1)).to.deep.equal([]);
    expect(delegationsToFetch(withoutTeam)).to.deep.equal(['team']);
  });

  it('never writes a builder role that does not verify: a forged v2 on the mirror leaves the v1 copy in place', async () => {
    await refresh();
    const cached = await readFile(join(metadataDir, 'builder.json'));
    await publishBuilderRelease(APP2, '2.0.0');
    const file = join(published.dir, 'metadata', '2.builder.json');
    // the mirror serves v2 signed by an attacker's key instead of the builder's
    await writeFile(file, resign(await readFile(file), (s) => void (s.expires = '2099-01-01T00:00:00Z'), [testKey('attacker')]));
    const result = await refresh();
    expect(result.updated).to.deep.equal([]);
    expect(result.failed.map((f) => f.role)).to.deep.equal(['builder']);
    expect(result.failed[0].code).to.equal('SIGNATURE_THRESHOLD');
    expect(await readFile(join(metadataDir, 'builder.json'))).to.deep.equal(cached);
  });

  it('stores nothing when the cached top-level metadata does not verify from the pinned root', async () => {
    await createDeviceUpdater({ metadataDir, source: sourceAt(server.url) }).refresh();
    const ts = join(metadataDir, 'timestamp.json');
    await writeFile(ts, editJson(await readFile(ts), (env) => void (env.signed.version = Number(env.signed.version) + 1)));
    const client = createDeviceUpdater({ metadataDir, source: sourceAt(server.url) });
    const result = await refreshDelegatedRoles({ metadataDir, initialRoot, fetchMetadata: client.fetchMetadata, now: new Date() });
    expect(result.failed.map((f) => [f.role, f.code])).to.deep.equal([['targets', 'SIGNATURE_THRESHOLD']]);
    expect(await readdir(metadataDir)).to.not.include('builder.json');
    expect(server.requests.some((p) => p.includes('builder'))).to.equal(false);
  });

  it('reports a builder role the mirror lacks and one expired at `now`, writing neither', async () => {
    await rm(join(published.dir, 'metadata', '1.builder.json'));
    const missing = await refresh();
    expect(missing.failed.map((f) => [f.role, f.code])).to.deep.equal([['builder', 'FETCH_FAILED']]);
    await published.publish();
    const expired = await refresh(after(3650, new Date()));
    expect(expired.failed.map((f) => [f.role, f.code])).to.deep.equal([['builder', 'EXPIRED']]);
    expect(await readdir(metadataDir)).to.not.include('builder.json');
  });
});
