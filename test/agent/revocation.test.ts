import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootSequence } from '../../src/agent/boot-sequence.js';
import { runUpdate } from '../../src/agent/update.js';
import { keyFromSeed } from '../../src/crypto/ed25519.js';
import { writePublished } from '../../src/repo/publish-dir.js';
import { publishedLayout } from '../../src/repo/published-layout.js';
import { Repository } from '../../src/repo/repository.js';
import { delegateRevocations, nextRevocationList, setRevocationTarget, type RevocationEntry } from '../../src/revocation/publish.js';
import type { RevocationList } from '../../src/revocation/list.js';
import { startSwtpm, type Swtpm } from '../helpers/swtpm.js';
import { imageOf } from '../helpers/tuf-repo.js';
import { S, setupBoard, type Board } from './rig.js';

// Revocation end to end at the agent: the publisher signs a list under the `revocations` delegation,
// `edgeseal update` fetches it through tuf-js, the gate refuses, the TPM floor follows the list
// version, and the next boot check refuses a revoked installed image.
const key = (label: string): ReturnType<typeof keyFromSeed> => keyFromSeed(createHash('sha256').update(`agent-revocation/${label}`).digest());
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

class Publisher {
  readonly repo = Repository.init({ keys: { root: [key('root')], targets: [key('targets')], snapshot: [key('snapshot')], timestamp: [key('timestamp')] } });
  readonly blobs = new Map<string, Uint8Array>();
  list: RevocationList | undefined;
  readonly v1 = imageOf('v1', 64 * 1024);
  readonly v2 = imageOf('v2', 80 * 1024);

  constructor(readonly dir: string) {
    for (const [bytes, version, securityVersion] of [[this.v1, S.v1.version, 1], [this.v2, S.v2.version, 2]] as const) {
      const name = version === S.v1.version ? S.v1.target : S.v2.target;
      this.blobs.set(sha(bytes), bytes);
      this.repo.addTarget(name, { length: bytes.length, sha256: sha(bytes), custom: { hardwareIds: ['board-a'], version, securityVersion, kind: 'firmware' } });
    }
    delegateRevocations(this.repo, [key('revocations')]);
  }

  async publish(entry?: RevocationEntry): Promise<void> {
    if (entry) {
      this.list = nextRevocationList(this.list, entry, new Date());
      const bytes = setRevocationTarget(this.repo, this.list);
      this.blobs.set(sha(bytes), bytes);
    }
    this.repo.sign(new Date());
    await writePublished(this.dir, publishedLayout(this.repo), (t) => this.blobs.get(t.sha256)!);
  }
}

describe('agent revocation end to end (real swtpm, tuf-js)', function () {
  this.timeout(60_000);
  let swtpm: Swtpm;
  let dir: string;
  before(async () => {
    swtpm = await startSwtpm();
    dir = await mkdtemp(join(tmpdir(), 'es-agent-revocation-'));
  });
  after(async () => {
    await swtpm.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function withDevice<T>(board: Board, fn: (dev: Awaited<ReturnType<Board['open']>>) => Promise<T>): Promise<T> {
    const dev = await board.open();
    try {
      return await fn(dev);
    } finally {
      await dev.close();
    }
  }

  it('a revoked update is refused with IMAGE_REVOKED, the list version becomes a TPM floor, a revoked installed image fails the boot check', async () => {
    const pub = new Publisher(join(dir, 'repo'));
    await pub.publish();
    const board = await setupBoard(swtpm, {}, 'board-a', pub.dir);

    await pub.publish({ kind: 'digest', sha256: sha(pub.v2), reason: 'bricks the radio' });
    const refused = await withDevice(board, (dev) => runUpdate(dev));
    expect(refused).to.include({ action: 'refused', code: 'IMAGE_REVOKED' });
    expect(await withDevice(board, (dev) => dev.trust.readFloors())).to.include({ revocationVersion: 1 });

    await pub.publish({ kind: 'digest', sha256: sha(pub.v1), reason: 'factory image leaks keys' });
    expect(await withDevice(board, (dev) => runUpdate(dev))).to.include({ action: 'refused', code: 'IMAGE_REVOKED' });
    const boot = await withDevice(board, (dev) => bootSequence(dev, new Date()));
    expect(boot).to.include({ action: 'refused', proceed: false, code: 'IMAGE_REVOKED' });
    expect(await withDevice(board, (dev) => dev.trust.readFloors())).to.include({ revocationVersion: 2 });
  });
});
