import { expect } from 'chai';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeSlotRecords } from '../../src/agent/agent-state.js';
import { bootSequence } from '../../src/agent/boot-sequence.js';
import { buildImageVerifier } from '../../src/agent/image-verifier.js';
import { runUpdate } from '../../src/agent/update.js';
import { DEFAULT_FRESHNESS_POLICY } from '../../src/revocation/policy.js';
import { loadTrustedMetadata } from '../../src/tuf/offline/load-trusted.js';
import { addImage, customFor, imageOf, newRepo, publishedFiles, sha256Hex, T0 } from '../helpers/tuf-repo.js';
import { LiveRepo } from './live-repo.js';
import { useBoardRig } from './rig.js';

// Which target a slot holds is read from slots.json (disk state, unsigned): a validly signed target
// of another kind for the same board must not pass as the configured image (M1).
const APP = 'apps/board-a/dashboard.bin';
const FW = 'fw/board-a/firmware.bin';

describe('agent image verifier: the target kind must be the configured image kind', () => {
  const fw = imageOf('kind-fw');
  const app = imageOf('kind-app');
  const { repo } = newRepo();
  addImage(repo, FW, fw);
  addImage(repo, APP, app, customFor({ kind: 'app', version: '9.0.0' }));
  repo.sign(T0);
  const now = new Date(T0.getTime() + 3_600_000);
  const files = publishedFiles(repo);
  const verifier = buildImageVerifier({
    trusted: loadTrustedMetadata(files, { now, expiry: 'enforce' }),
    files,
    hardwareId: 'board-a',
    floors: { rootVersion: 1, securityVersion: 0, revocationVersion: 0, targetsVersion: 0 },
    revocations: () => ({ state: 'never', version: undefined, highestVersion: 0, ageDays: undefined, expires: undefined, list: undefined }),
    freshness: DEFAULT_FRESHNESS_POLICY,
  });
  const digest = (b: Buffer): { length: number; sha256: string } => ({ length: b.length, sha256: sha256Hex(b) });

  it('refuses a validly signed app target verified as the firmware image (verify and expected), accepts each as its own kind', () => {
    expect(verifier.verify({ targetName: APP, kind: 'firmware', securityFloor: true }, digest(app), now)).to.include({ ok: false, code: 'KIND_MISMATCH' });
    expect(verifier.expected(APP, 'firmware', now)).to.include({ ok: false, code: 'KIND_MISMATCH' });
    expect(verifier.verify({ targetName: APP, kind: 'app', securityFloor: false }, digest(app), now)).to.include({ ok: true });
    expect(verifier.verify({ targetName: FW, kind: 'firmware', securityFloor: true }, digest(fw), now)).to.include({ ok: true });
    expect(verifier.expected(FW, 'firmware', now)).to.include({ ok: true });
  });
});

describe('agent boot check and update gate: an app target placed in the firmware slot (real swtpm)', function () {
  const rig = useBoardRig(this, { scratch: 'es-agent-kind-' });

  it('the boot check refuses the slot with KIND_MISMATCH, and no update is judged against it', async () => {
    const pub = new LiveRepo(join(rig.dir, 'repo'));
    const appBytes = imageOf('kind-live-app', 4096);
    pub.addRaw(APP, appBytes, { hardwareIds: ['board-a'], version: '9.0.0', securityVersion: 1, kind: 'app' });
    pub.addV2();
    await pub.publish();
    const board = await rig.board({}, 'board-a', pub.dir);
    // an attacker with disk write: the app's (genuine, signed) bytes in slot A and slots.json naming it
    await writeFile(board.slots.a, appBytes);
    const dev = await board.open();
    try {
      await writeSlotRecords(dev.paths, { A: { name: APP, length: appBytes.length, sha256: sha256Hex(appBytes), version: '9.0.0', securityVersion: 1 } });
      const boot = await bootSequence(dev, new Date());
      expect(boot).to.include({ action: 'refused', proceed: false, code: 'KIND_MISMATCH' });
      expect(boot.check.outcomes[0].verdict).to.include({ ok: false, code: 'KIND_MISMATCH' });
      const update = await runUpdate(dev);
      expect(update).to.include({ action: 'refused', code: 'KIND_MISMATCH' });
    } finally {
      await dev.close();
    }
  });
});
