import { expect } from 'chai';
import { join } from 'node:path';
import { runUpdate } from '../../src/agent/update.js';
import { parseEnvelope } from '../../src/telemetry/envelope.js';
import { DiskOutboxStore } from '../../src/telemetry/outbox/disk-store.js';
import { imageOf } from '../helpers/tuf-repo.js';
import { LiveRepo } from './live-repo.js';
import { S, useBoardRig } from './rig.js';

// A target the device cannot use (no image custom fields, e.g. pushed by a standard TUF tool) must not
// stop every device from updating: it is skipped and reported, and the real release still installs.
describe('agent update with unusable targets in the repository (real swtpm)', function () {
  const rig = useBoardRig(this, { scratch: 'es-agent-rejected-' });

  it('installs the release and reports each skipped target with MALFORMED_METADATA', async () => {
    const pub = new LiveRepo(join(rig.dir, 'repo'));
    await pub.publish();
    const board = await rig.board({}, 'board-a', pub.dir);
    pub.addV2();
    pub.addRaw('docs/README.txt', imageOf('readme', 100));
    pub.addRaw('fw/board-a/broken.bin', imageOf('broken', 100), { hardwareIds: ['board-a'], version: 'latest', securityVersion: 9, kind: 'firmware' });
    await pub.publish();

    const dev = await board.open();
    try {
      const o = await runUpdate(dev);
      expect(o).to.include({ action: 'installed' });
      expect(o.target).to.include({ name: S.v2.target, version: S.v2.version });
    } finally {
      await dev.close();
    }
    const { entries } = await new DiskOutboxStore(join(board.config.stateDir, 'outbox')).load();
    const skipped = entries.map((e) => parseEnvelope(e.bytes).event).filter((e) => e.type === 'update-check');
    expect(skipped.map((e) => [e.image?.name, e.verdict, e.code])).to.deep.equal([
      ['docs/README.txt', 'error', 'MALFORMED_METADATA'],
      ['fw/board-a/broken.bin', 'error', 'MALFORMED_METADATA'],
    ]);
    expect(skipped[1].detail).to.contain('custom.version');
  });
});
