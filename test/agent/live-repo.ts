import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { keyFromSeed, type SigningKey } from '../../src/crypto/ed25519.js';
import { writePublished } from '../../src/repo/publish-dir.js';
import { publishedLayout } from '../../src/repo/published-layout.js';
import { Repository } from '../../src/repo/repository.js';
import { blobPath, saveWorkdir, storeKey } from '../../src/repo/workdir.js';
import { imageOf } from '../helpers/tuf-repo.js';
import { S } from './rig.js';

// A publisher repository the test keeps changing (targets, root rotations) and re-publishes into one
// directory, as a release team would: the update scenario's v1 (factory) and v2 for board-a.
const key = (label: string): SigningKey => keyFromSeed(createHash('sha256').update(`agent-live-repo/${label}`).digest());
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

export class LiveRepo {
  readonly repo = Repository.init({ keys: { root: [key('root-1')], targets: [key('targets')], snapshot: [key('snapshot')], timestamp: [key('timestamp')] } });
  readonly blobs = new Map<string, Uint8Array>();
  readonly v1 = imageOf('live-v1', 64 * 1024);
  readonly v2 = imageOf('live-v2', 80 * 1024);

  constructor(readonly dir: string) {
    this.add(S.v1.target, this.v1, { hardwareIds: ['board-a'], version: S.v1.version, securityVersion: S.v1.securityVersion, kind: 'firmware' });
  }

  // Adds the scenario's v2 (securityVersion 2) as the next release; `extra` custom fields (e.g. pcrPolicyGeneration).
  addV2(extra: Record<string, unknown> = {}): void {
    this.add(S.v2.target, this.v2, { hardwareIds: ['board-a'], version: S.v2.version, securityVersion: S.v2.securityVersion, kind: 'firmware', ...extra });
  }

  // A target entry as written as is (no image custom-field check): what a standard TUF tool publishes.
  addRaw(name: string, bytes: Uint8Array, custom?: Record<string, unknown>): void {
    this.blobs.set(sha(bytes), bytes);
    this.repo.editSigned('targets', (t) => {
      if (t._type === 'targets') t.targets[name] = { length: bytes.length, hashes: { sha256: sha(bytes) }, ...(custom === undefined ? {} : { custom }) };
    });
  }

  // One root rotation: a new root key, so the next publish writes N+1.root.json signed by old and new.
  rotateRoot(label: string): void {
    const old = this.repo.envelope('root').signed as { roles: { root: { keyids: string[] } } };
    this.repo.rotateKeys('root', { add: [key(label)], remove: old.roles.root.keyids });
    this.repo.sign(new Date());
  }

  // The publisher's workdir for online signing elsewhere (the collector's automatic halt): repo.json,
  // the snapshot and timestamp keys only, and every blob.
  async saveWorkdir(dir: string): Promise<void> {
    await saveWorkdir(dir, this.repo);
    for (const role of ['snapshot', 'timestamp']) await storeKey(dir, role, key(role));
    await mkdir(join(dir, 'blobs'), { recursive: true });
    for (const [sha256, bytes] of this.blobs) await writeFile(blobPath(dir, sha256), bytes);
  }

  async publish(): Promise<void> {
    this.repo.sign(new Date());
    await writePublished(this.dir, publishedLayout(this.repo), (t) => this.blobs.get(t.sha256)!);
  }

  private add(name: string, bytes: Uint8Array, custom: Record<string, unknown>): void {
    this.blobs.set(sha(bytes), bytes);
    this.repo.addTarget(name, { length: bytes.length, sha256: sha(bytes), custom });
  }
}
