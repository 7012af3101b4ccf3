import { expect } from 'chai';
import { join } from 'node:path';
import { runUpdate } from '../../src/agent/update.js';
import { startConnectProxy } from '../helpers/connect-proxy.js';
import { makeTestPki, type TestPki } from '../helpers/test-pki.js';
import { serveDir } from '../tuf/repo-server.js';
import { RevocationPublisher } from './revocation-publisher.js';
import { S, useBoardRig, withDevice } from './rig.js';

// The agent's update over the configured transport (update.tls, update.proxy, update.maxBytesPerSecond):
// a mirror on loopback that only talks mutual TLS under a private CA generated for this run, reached
// through a CONNECT proxy. Metadata refresh, revocation list and image download must all get through.
describe('agent update over mutual TLS through a CONNECT proxy (real swtpm, loopback HTTPS mirror)', function () {
  const rig = useBoardRig(this, { scratch: 'es-agent-transport-' });
  let pki: TestPki;
  before(async () => {
    pki = await makeTestPki();
  });
  after(() => pki.remove());

  it('installs with update.tls and update.proxy: every request tunnelled, mTLS for metadata, revocation list and image; without the client certificate: TLS_CLIENT_REJECTED', async () => {
    const pub = new RevocationPublisher(join(rig.dir, 'repo'));
    await pub.publish({ kind: 'digest', sha256: 'b'.repeat(64), reason: 'an unrelated image' });
    const mirror = await serveDir(pub.dir, { tls: { pki, mutual: true } });
    const proxy = await startConnectProxy();
    try {
      const tls = { ca: pki.path('ca'), cert: pki.path('client'), key: pki.path('client-key') };
      const board = await rig.board({ update: { source: mirror.url, tls, proxy: proxy.url, noProxy: [], maxBytesPerSecond: 64 * 1024 * 1024 } }, 'board-a', pub.dir);
      // a new list after the factory refresh: snapshot, targets roles and the list itself are new on the mirror
      await pub.publish({ kind: 'digest', sha256: 'c'.repeat(64), reason: 'another unrelated image' });
      const outcome = await withDevice(board, (dev) => runUpdate(dev));
      expect(outcome, outcome.message).to.include({ action: 'installed' });
      expect(outcome.target).to.include({ name: S.v2.target });
      const paths = mirror.requests;
      expect(paths).to.include.members(['/metadata/timestamp.json', '/metadata/2.snapshot.json']);
      expect(paths.some((p) => p.startsWith('/targets/revocations/')), 'revocation list fetched').to.equal(true);
      expect(paths.some((p) => p.startsWith(`/targets/${S.v2.target.replace(/[^/]+$/, '')}`)), 'image fetched').to.equal(true);
      expect(proxy.tunnels.length).to.be.at.least(1);
      expect(new Set(proxy.tunnels)).to.deep.equal(new Set([new URL(mirror.url).host]));

      const noCert = await rig.board({ update: { source: mirror.url, tls: { ca: pki.path('ca') }, proxy: proxy.url, noProxy: [] } }, 'board-a', pub.dir);
      expect(await withDevice(noCert, (dev) => runUpdate(dev))).to.include({ action: 'refused', code: 'TLS_CLIENT_REJECTED' });
    } finally {
      await proxy.close();
      await mirror.close();
    }
  });
});
