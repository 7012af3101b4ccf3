import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LiveRepo } from '../agent/live-repo.js';

// Issue 10 A, publisher side: a mirror read mid-publish must never see a timestamp.json naming files
// that are not there yet. Targets go first, then every versioned metadata file, timestamp.json last.
describe('repo publish write order', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'es-publish-order-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes targets before any metadata and timestamp.json after every versioned file', async () => {
    const pub = new LiveRepo(join(dir, 'repo'));
    const timestamp = join(pub.dir, 'metadata', 'timestamp.json');
    const seen: boolean[] = [];
    // the target source is read while each target is written: the timestamp must not exist yet
    const source = pub.blobs.get.bind(pub.blobs);
    pub.blobs.get = (k: string) => {
      seen.push(existsSync(timestamp));
      return source(k);
    };
    await pub.publish();
    expect(seen).to.deep.equal([false]);
    const names = (await readdir(join(pub.dir, 'metadata'))).filter((n) => n !== 'timestamp.json');
    expect(names).to.include.members(['1.root.json', '1.snapshot.json', '1.targets.json']);
    const last = (await stat(timestamp, { bigint: true })).mtimeNs;
    for (const n of names) expect((await stat(join(pub.dir, 'metadata', n), { bigint: true })).mtimeNs <= last, n).to.equal(true);
  });
});
