import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runBootCheck } from '../../src/agent/boot-check.js';
import { checkImage } from '../../src/agent/check-image.js';
import { slotImage } from '../../src/agent/installed-images.js';
import { refreshMetadata } from '../../src/agent/metadata-refresh.js';
import { runUpdate } from '../../src/agent/update.js';
import { keyFromSeed } from '../../src/crypto/ed25519.js';
import { writePublished } from '../../src/repo/publish-dir.js';
import { publishedLayout } from '../../src/repo/published-layout.js';
import { Repository } from '../../src/repo/repository.js';
import type { RevocationList } from '../../src/revocation/list.js';
import { delegateRevocations, nextRevocationList, setRevocationTarget } from '../../src/revocation/publish.js';
import { imageOf } from '../helpers/tuf-repo.js';
import { serveRepo, type RepoServer } from './repo-server.js';
import { useBoardRig, withDevice, type Board } from './rig.js';

// #10 finding 2 and part B: an installed image is known by its bytes, not by its name. The publisher
// republishes, removes and re-keys `firmware/board-a/fw.bin` (the README's name) on a real HTTP mirror;
// the device (real swtpm, real slot files) keeps booting its genuine image, and the gate compares with
// the version actually installed. Revocation and the securityVersion floor still refuse it.
const FW = 'firmware/board-a/fw.bin';
const key = (label: string): ReturnType<typeof keyFromSeed> => keyFromSeed(createHash('sha256').update(`install-records/${label}`).digest());
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

class Publisher {
  readonly repo = Repository.init({ keys: { root: [key('root')], targets: [key('targets-1')], snapshot: [key('snapshot')], timestamp: [key('timestamp')] } });
  readonly blobs = new Map<string, Uint8Array>();
  readonly v100 = imageOf('fw-1.0.0', 48 * 1024);
  readonly v110 = imageOf('fw-1.1.0', 56 * 1024);
  list: RevocationList | undefined;

  constructor(readonly dir: string) {
    delegateRevocations(this.repo, [key('revocations')]);
    this.release(this.v100, '1.0.0', 1);
  }

  // `repo add-target --replace` under the same name, as the README's publisher does
  release(bytes: Uint8Array, version: string, securityVersion: number, name = FW, kind = 'firmware'): void {
    this.blobs.set(sha(bytes), bytes);
    this.repo.addTarget(name, { length: bytes.length, sha256: sha(bytes), custom: { hardwareIds: ['board-a'], version, securityVersion, kind } });
  }

  revoke(bytes: Uint8Array): void {
    this.list = nextRevocationList(this.list, { kind: 'digest', sha256: sha(bytes), reason: 'test' }, new Date());
    const list = setRevocationTarget(this.repo, this.list);
    this.blobs.set(sha(list), list);
  }

  async publish(): Promise<void> {
    this.repo.sign(new Date());
    await writePublished(this.dir, publishedLayout(this.repo), (t) => this.blobs.get(t.sha256)!);
  }
}

describe('install records: an installed image is known by its bytes (real swtpm, HTTP mirror)', function () {
  const rig = useBoardRig(this, { scratch: 'es-agent-records-' });

  // A device on 1.0.0 in slot A that booted once (the first verified boot writes its record).
  async function deviceOn100(name: string): Promise<{ pub: Publisher; board: Board; server: RepoServer }> {
    const pub = new Publisher(join(rig.dir, name));
    await pub.publish();
    const board = await rig.board({ images: [{ target: FW, kind: 'firmware' }] }, 'board-a', pub.dir);
    const server = await serveRepo(pub.dir);
    const first = await withDevice(board, (dev) => runBootCheck(dev, new Date()));
    expect(first.ok, 'first boot').to.equal(true);
    return { pub, board, server };
  }

  const bootCodes = async (board: Board, from?: string): Promise<string[]> => {
    const check = await withDevice(board, async (dev) => {
      if (from) await refreshMetadata(dev, from);
      return runBootCheck(dev, new Date());
    });
    return check.outcomes.map((o) => (o.verdict.ok ? `VERIFIED ${o.verdict.target.custom.version}` : o.verdict.code));
  };

  it('finding 2: 1.0.0 replaced by 1.1.0 under the same name: the boot check of the installed 1.0.0 still passes', async () => {
    const { pub, board, server } = await deviceOn100('finding-2-boot');
    try {
      pub.release(pub.v110, '1.1.0', 2);
      await pub.publish();
      // the refreshed metadata lists only 1.1.0 under the name
      expect(await bootCodes(board, server.url)).to.deep.equal(['VERIFIED 1.0.0']);
    } finally {
      await server.close();
    }
  });

  it('finding 2: the gate compares 1.1.0 with the installed 1.0.0 and installs it; slot A keeps its record', async () => {
    const { pub, board, server } = await deviceOn100('finding-2-gate');
    try {
      pub.release(pub.v110, '1.1.0', 2);
      await pub.publish();
      const update = await withDevice(board, (dev) => runUpdate(dev, { from: server.url }));
      expect(update.message).to.not.include('is the newest');
      expect(update).to.include({ action: 'installed' });
      expect(update.target).to.include({ name: FW, version: '1.1.0', sha256: sha(pub.v110) });
      expect(update.reasons).to.include('version 1.1.0 newer than installed 1.0.0');
      // slot B's record was moved into place once B was staged
      expect((await readdir(join(board.config.stateDir, 'agent', 'records'))).sort()).to.deep.equal(['slot-A.json', 'slot-B.json']);
      const trial = await rig.reboot(board);
      expect(trial.action).to.equal('committed');
      expect(trial.check.outcomes[0]).to.include({ vouchedBy: 'install-record' });
      expect(await withDevice(board, (dev) => dev.trust.readFloors())).to.include({ securityVersion: 2 });
      expect(await withDevice(board, (dev) => runUpdate(dev, { from: server.url }))).to.include({ action: 'none', code: 'NO_UPDATE' });

      // slot A keeps its 1.0.0 record: genuine, but now below the securityVersion floor the commit raised
      const fallback = await withDevice(board, async (dev) => checkImage(await dev.createImageVerifier(new Date(), 'ignore'), await slotImage(dev, dev.ab!, 'A'), new Date()));
      expect(fallback.verdict).to.include({ ok: false, code: 'ROLLBACK' });
    } finally {
      await server.close();
    }
  });

  it('a target removed from current metadata, then the targets key rotated: the installed image still boots', async () => {
    const { pub, board, server } = await deviceOn100('removed');
    try {
      pub.repo.removeTarget(FW);
      await pub.publish();
      expect(await bootCodes(board, server.url)).to.deep.equal(['VERIFIED 1.0.0']);

      // a new targets key (root v2) that signs only 1.1.0: the record keeps 1.0.0 under the root that signed it
      pub.repo.rotateKeys('targets', { add: [key('targets-2')], remove: [key('targets-1').keyid] });
      pub.release(pub.v110, '1.1.0', 2);
      await pub.publish();
      expect(await bootCodes(board, server.url)).to.deep.equal(['VERIFIED 1.0.0']);
      expect(await withDevice(board, (dev) => dev.trust.readFloors())).to.include({ rootVersion: 2 });
    } finally {
      await server.close();
    }
  });

  it('a revoked installed image fails its boot check even though its record vouches for it', async () => {
    const { pub, board, server } = await deviceOn100('revoked');
    try {
      pub.release(pub.v110, '1.1.0', 2);
      pub.revoke(pub.v100);
      await pub.publish();
      expect(await withDevice(board, (dev) => runUpdate(dev, { from: server.url }))).to.include({ action: 'installed' });
      expect(await bootCodes(board)).to.deep.equal(['IMAGE_REVOKED']);
    } finally {
      await server.close();
    }
  });

  it('an installed image below the securityVersion floor fails although its record vouches for it', async () => {
    const { pub, board, server } = await deviceOn100('floor');
    try {
      pub.release(pub.v110, '1.1.0', 2);
      await pub.publish();
      await withDevice(board, (dev) => dev.trust.raiseFloor('securityVersion', 2));
      expect(await bootCodes(board, server.url)).to.deep.equal(['ROLLBACK']);
    } finally {
      await server.close();
    }
  });

  it('a tampered record is set aside: the boot check falls back to today’s refusal, never accepts', async () => {
    const { pub, board, server } = await deviceOn100('tampered');
    try {
      pub.release(pub.v110, '1.1.0', 2);
      await pub.publish();
      const path = join(board.config.stateDir, 'agent', 'records', 'slot-A.json');
      const record = JSON.parse(await readFile(path, 'utf8')) as { targets: string };
      // the record's targets edited to list the installed bytes with a higher version: its signature breaks
      const targets = JSON.parse(Buffer.from(record.targets, 'base64').toString('utf8')) as { signed: { targets: Record<string, { custom: { version: string } }> } };
      targets.signed.targets[FW].custom.version = '9.9.9';
      await writeFile(path, JSON.stringify({ ...record, targets: Buffer.from(JSON.stringify(targets)).toString('base64') }));

      const check = await withDevice(board, async (dev) => {
        await refreshMetadata(dev, server.url);
        return runBootCheck(dev, new Date());
      });
      const v = check.outcomes[0].verdict;
      expect(v).to.include({ ok: false, code: 'LENGTH_MISMATCH' }); // today's metadata lists the longer 1.1.0 under the name
      expect(v.ok ? '' : v.message).to.include('install record set aside [SIGNATURE_THRESHOLD]');
      // nothing was written over the refused record from metadata that does not vouch for the image
      expect(await readFile(path, 'utf8')).to.include(Buffer.from(JSON.stringify(targets)).toString('base64'));
    } finally {
      await server.close();
    }
  });

  it('a device upgraded from an agent without records gets one for each slot at its first verified boot', async () => {
    const { pub, board, server } = await deviceOn100('upgraded');
    try {
      // a patch release at the same securityVersion, so that slot A stays a valid fallback after the commit
      pub.release(pub.v110, '1.0.1', 1, 'firmware/board-a/fw-1.0.1.bin');
      await pub.publish();
      expect(await withDevice(board, (dev) => runUpdate(dev, { from: server.url }))).to.include({ action: 'installed' });
      expect((await rig.reboot(board)).action).to.equal('committed');
    } finally {
      await server.close();
    }
    // the state an older agent leaves: slot B committed, slot A the factory image, no records at all
    const records = join(board.config.stateDir, 'agent', 'records');
    await rm(records, { recursive: true });

    expect(await rig.reboot(board)).to.include({ action: 'verified', proceed: true });
    expect((await readdir(records)).sort()).to.deep.equal(['slot-A.json', 'slot-B.json']);
    const slotA = await withDevice(board, async (dev) => (await dev.createImageVerifier(new Date(), 'ignore')).forRecord(await readFile(join(records, 'slot-A.json')), new Date()));
    expect(slotA.ok && slotA.target).to.include({ name: FW, length: pub.v100.length });
  });

  it('a fixed image keeps booting after its name is republished; its record is keyed by its path', async () => {
    const APP = 'apps/board-a/app.tar';
    const app1 = imageOf('app-1', 8 * 1024);
    const pub = new Publisher(join(rig.dir, 'fixed'));
    pub.release(app1, '1.0.0', 0, APP, 'app');
    await pub.publish();
    const appPath = join(rig.dir, 'fixed-app.tar');
    await writeFile(appPath, app1);
    const board = await rig.board({ images: [{ target: FW, kind: 'firmware' }, { target: APP, kind: 'app', path: appPath }] }, 'board-a', pub.dir);
    const server = await serveRepo(pub.dir);
    try {
      expect(await bootCodes(board)).to.deep.equal(['VERIFIED 1.0.0', 'VERIFIED 1.0.0']);
      pub.release(imageOf('app-2', 9 * 1024), '2.0.0', 0, APP, 'app');
      await pub.publish();
      expect(await bootCodes(board, server.url)).to.deep.equal(['VERIFIED 1.0.0', 'VERIFIED 1.0.0']);
      expect((await readdir(join(board.config.stateDir, 'agent', 'records'))).filter((f) => f.startsWith('fixed-'))).to.have.length(1);
    } finally {
      await server.close();
    }
  });

  it('an image signed by a delegated builder keeps booting after the builder key is rotated and the target removed', async () => {
    const BUILT = 'firmware/board-a/built-1.0.1.bin';
    const { pub, board, server } = await deviceOn100('builder');
    try {
      pub.repo.delegate({ name: 'builder', paths: ['firmware/board-a/built-*'], keys: [key('builder-1')] });
      pub.blobs.set(sha(pub.v110), pub.v110);
      pub.repo.addTarget(BUILT, { length: pub.v110.length, sha256: sha(pub.v110), custom: { hardwareIds: ['board-a'], version: '1.0.1', securityVersion: 1, kind: 'firmware' } }, { role: 'builder' });
      await pub.publish();
      expect(await withDevice(board, (dev) => runUpdate(dev, { from: server.url }))).to.include({ action: 'installed' });
      expect((await rig.reboot(board)).action).to.equal('committed');

      pub.repo.rotateKeys('builder', { add: [key('builder-2')], remove: [key('builder-1').keyid] });
      pub.repo.removeTarget(BUILT, { role: 'builder' });
      await pub.publish();
      expect(await bootCodes(board, server.url)).to.deep.equal(['VERIFIED 1.0.1']);
    } finally {
      await server.close();
    }
  });
});
