import { expect } from 'chai';
import { join } from 'node:path';
import { bootSequence } from '../../src/agent/boot-sequence.js';
import { runUpdate } from '../../src/agent/update.js';
import { RevocationPublisher, sha } from './revocation-publisher.js';
import { useBoardRig, withDevice } from './rig.js';

// Revocation end to end at the agent: the publisher signs a list under the `revocations` delegation,
// `edgeseal update` fetches it through tuf-js, the gate refuses, the TPM floor follows the list
// version, and the next boot check refuses a revoked installed image.
describe('agent revocation end to end (real swtpm, tuf-js)', function () {
  const rig = useBoardRig(this, { scratch: 'es-agent-revocation-' });

  it('a revoked update is refused with IMAGE_REVOKED, the list version becomes a TPM floor, a revoked installed image fails the boot check', async () => {
    const pub = new RevocationPublisher(join(rig.dir, 'repo'));
    await pub.publish();
    const board = await rig.board({}, 'board-a', pub.dir);

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
