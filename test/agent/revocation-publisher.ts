import { createHash } from 'node:crypto';
import { keyFromSeed } from '../../src/crypto/ed25519.js';
import { writePublished } from '../../src/repo/publish-dir.js';
import { publishedLayout } from '../../src/repo/published-layout.js';
import { Repository } from '../../src/repo/repository.js';
import type { RevocationList } from '../../src/revocation/list.js';
import { delegateRevocations, nextRevocationList, setRevocationTarget, type RevocationEntry } from '../../src/revocation/publish.js';
import { imageOf } from '../helpers/tuf-repo.js';
import { S } from './rig.js';

// A publisher for agent revocation tests: the update scenario's v1 (factory) and v2 for board-a, and a
// `revocations` delegation; publish() writes the repository directory an HTTP mirror or a USB stick serves.
const key = (label: string, realm: string): ReturnType<typeof keyFromSeed> => keyFromSeed(createHash('sha256').update(`${realm}/${label}`).digest());
export const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const YEAR = 365 * 86_400;

export class RevocationPublisher {
  readonly repo: Repository;
  readonly blobs = new Map<string, Uint8Array>();
  list: RevocationList | undefined;
  readonly v1 = imageOf('v1', 64 * 1024);
  readonly v2 = imageOf('v2', 80 * 1024);

  // `realm` seeds the keys: another realm is another publisher (an attacker's repository)
  constructor(
    readonly dir: string,
    realm = 'agent-revocation',
  ) {
    // metadata valid for a year, so tests can move the device clock weeks ahead of the signing time
    this.repo = Repository.init({
      keys: { root: [key('root', realm)], targets: [key('targets', realm)], snapshot: [key('snapshot', realm)], timestamp: [key('timestamp', realm)] },
      expirySeconds: { root: YEAR, targets: YEAR, snapshot: YEAR, timestamp: YEAR },
    });
    for (const [bytes, spec] of [[this.v1, S.v1], [this.v2, S.v2]] as const) {
      this.blobs.set(sha(bytes), bytes);
      this.repo.addTarget(spec.target, { length: bytes.length, sha256: sha(bytes), custom: { hardwareIds: ['board-a'], version: spec.version, securityVersion: spec.securityVersion, kind: 'firmware' } });
    }
    delegateRevocations(this.repo, [key('revocations', realm)]);
  }

  // Adds `entry` to the next list version (issued at `issued`, valid `validDays`), re-signs and writes out.
  async publish(entry?: RevocationEntry, opts: { issued?: Date; validDays?: number } = {}): Promise<void> {
    if (entry) {
      this.list = nextRevocationList(this.list, entry, opts.issued ?? new Date(), opts.validDays);
      const bytes = setRevocationTarget(this.repo, this.list);
      this.blobs.set(sha(bytes), bytes);
    }
    this.repo.sign(new Date());
    await writePublished(this.dir, publishedLayout(this.repo), (t) => this.blobs.get(t.sha256)!);
  }
}
