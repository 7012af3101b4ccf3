import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { agentPaths, writeSlotRecords } from '../../src/agent/agent-state.js';
import { runUpdate } from '../../src/agent/update.js';
import { readJournal } from '../../src/ota/install-journal.js';
import { waitFor } from '../helpers/wait-for.js';
import { runCli } from './cli-child.js';
import { serveRepo } from './repo-server.js';
import { REPO, S, targetBytes, useBoardRig, withDevice } from './rig.js';

// A slot being streamed into holds part of the new target, unverified: `edgeseal status` says so
// instead of the target its slot record still names (issue 12, left from D).
describe('edgeseal status while an install streams into a slot (real swtpm)', function () {
  const rig = useBoardRig(this);

  it('shows the slot as being written, with the journalled share and unverified, in text and in --json', async () => {
    const board = await rig.board();
    const paths = agentPaths(board.config.stateDir);
    // slot B held the factory image before: its record names it
    const v1 = await targetBytes(REPO, S.v1.target);
    await writeSlotRecords(paths, { B: { name: S.v1.target, version: S.v1.version, length: v1.length, securityVersion: S.v1.securityVersion, sha256: createHash('sha256').update(v1).digest('hex') } });
    const v2 = await targetBytes(REPO, S.v2.target);
    const stallAt = 64 * 1024;
    const server = await serveRepo(REPO, { stallAfter: stallAt }); // the transfer stops mid-stream and stays open
    const stop = new AbortController();
    const update = withDevice(board, (dev) => runUpdate(dev, { from: server.url, signal: stop.signal }));
    try {
      // the stream's timer checkpoint (every 2 s) journals the bytes fdatasync'd so far
      await waitFor('a journalled offset mid-stream', async () => {
        const j = await readJournal(paths.journal);
        return j.state === 'downloading' && (j.install?.offset ?? 0) > 0;
      });
      const text = await runCli(['status', '--config', board.configPath]);
      expect(text.code, text.err).to.equal(0);
      const percent = Math.floor((stallAt / v2.length) * 100);
      const slotB = text.out.split('\n').find((l) => l.startsWith('  slot B'));
      expect(slotB).to.contain(`writing ${S.v2.target} ${S.v2.version} (${percent} % written, unverified)`);
      expect(slotB).to.not.contain(S.v1.target);

      const json = await runCli(['status', '--config', board.configPath, '--json']);
      const status = JSON.parse(json.out) as { slotInFlight: unknown; slots: Record<string, { name: string }> };
      expect(status.slotInFlight).to.deep.equal({ slot: 'B', target: S.v2.target, version: S.v2.version, length: v2.length, state: 'writing', durableBytes: stallAt, percent, verified: false });
      expect(status.slots.B?.name, 'the record is kept as it is: what the slot held before').to.equal(S.v1.target);
    } finally {
      stop.abort();
      await update.catch(() => undefined);
      await server.close();
    }
  });
});
