import { expect } from 'chai';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT, exitCodeFor } from '../../src/cli/command.js';
import { HttpTransport, type TransportOptions } from '../../src/net/http-transport.js';
import { proxySettings } from '../../src/net/proxy.js';
import { RateLimiter } from '../../src/net/throttle.js';
import { HttpFetcher } from '../../src/tuf/fetchers/http-fetcher.js';
import { startConnectProxy, type TestProxy } from '../helpers/connect-proxy.js';
import { expectCodeAsync } from '../helpers/expect-code.js';
import { makeTestPki, type TestPki } from '../helpers/test-pki.js';
import { serveDir, type RepoServer } from '../tuf/repo-server.js';

// The update transport against real loopback servers: an HTTPS server under a private CA generated for
// this run that requires client certificates, and a real CONNECT proxy.

const BODY = Buffer.alloc(300 * 1024, 0x5a);

async function fetchAll(transport: HttpTransport, url: string): Promise<Buffer> {
  return new HttpFetcher(transport).downloadBytes(url, 1024 * 1024);
}

describe('net/http-transport (real HTTPS server, private CA, mutual TLS, CONNECT proxy)', function () {
  this.timeout(20_000);
  let pki: TestPki;
  let dir: string;
  let mtls: RepoServer;
  let plain: RepoServer;
  let url: string;
  const mutual = (): TransportOptions['tls'] => ({ ca: pki.ca, cert: pki.clientCert, key: pki.clientKey });

  before(async () => {
    pki = await makeTestPki();
    dir = await mkdtemp(join(tmpdir(), 'edgeseal-transport-'));
    await mkdir(join(dir, 'metadata'));
    await writeFile(join(dir, 'metadata', 'blob.bin'), BODY);
    mtls = await serveDir(dir, { tls: { pki, mutual: true } });
    plain = await serveDir(dir);
    url = `${mtls.url}/metadata/blob.bin`;
  });
  after(async () => {
    await mtls.close();
    await plain.close();
    await rm(dir, { recursive: true, force: true });
    await pki.remove();
  });

  describe('mutual TLS', () => {
    it('fetches with the private CA and the right client certificate', async () => {
      expect((await fetchAll(new HttpTransport({ tls: mutual() }), url)).equals(BODY)).to.equal(true);
    });

    it('without a client certificate: TLS_CLIENT_REJECTED, saying none was configured', async () => {
      const err = await expectCodeAsync(() => fetchAll(new HttpTransport({ tls: { ca: pki.ca } }), url), 'TLS_CLIENT_REJECTED');
      expect(err.message).to.match(/expected the server to accept no client certificate/);
      expect(exitCodeFor(err.code), 'a transport failure, not a refused image').to.equal(EXIT.ENVIRONMENT);
    });

    it('with a client certificate of another CA: TLS_CLIENT_REJECTED, naming the configured certificate', async () => {
      const err = await expectCodeAsync(() => fetchAll(new HttpTransport({ tls: { ca: pki.ca, cert: pki.otherClientCert, key: pki.otherClientKey } }), url), 'TLS_CLIENT_REJECTED');
      expect(err.message).to.match(/expected the server to accept the configured client certificate \(update\.tls\.cert\), found/);
    });

    it('trusting the wrong CA (or only the system store): TLS_UNTRUSTED with the verify code', async () => {
      const wrong = await expectCodeAsync(() => fetchAll(new HttpTransport({ tls: { ...mutual(), ca: pki.otherCa } }), url), 'TLS_UNTRUSTED');
      expect(wrong.message).to.match(/expected a server certificate for 127\.0\.0\.1 that chains to the configured CA \(update\.tls\.ca\), found [A-Z_]+/);
      const system = await expectCodeAsync(() => fetchAll(new HttpTransport({ tls: { cert: pki.clientCert, key: pki.clientKey } }), url), 'TLS_UNTRUSTED');
      expect(system.message).to.match(/the system CA store/);
      expect(exitCodeFor(system.code)).to.equal(EXIT.ENVIRONMENT);
    });
  });

  describe('proxy', () => {
    let proxy: TestProxy;
    beforeEach(async () => {
      proxy = await startConnectProxy();
    });
    afterEach(() => proxy.close());

    it('tunnels https with CONNECT: the proxy sees the authority and only ciphertext, mutual TLS still holds', async () => {
      const transport = new HttpTransport({ tls: mutual(), proxy: proxySettings({}, { HTTPS_PROXY: proxy.url }) });
      expect((await fetchAll(transport, url)).equals(BODY)).to.equal(true);
      expect(proxy.tunnels).to.deep.equal([new URL(mtls.url).host]);
      expect(proxy.bytesThrough()).to.be.above(BODY.length); // the body and the TLS overhead went through it
      await expectCodeAsync(() => fetchAll(new HttpTransport({ tls: { ca: pki.ca }, proxy: proxySettings({}, { HTTPS_PROXY: proxy.url }) }), url), 'TLS_CLIENT_REJECTED');
    });

    it('sends plain http as absolute-form requests through HTTP_PROXY', async () => {
      const transport = new HttpTransport({ proxy: proxySettings({}, { HTTP_PROXY: proxy.url }) });
      expect((await fetchAll(transport, `${plain.url}/metadata/blob.bin`)).equals(BODY)).to.equal(true);
      expect(proxy.forwarded).to.deep.equal([`${plain.url}/metadata/blob.bin`]);
      expect(proxy.tunnels).to.deep.equal([]);
    });

    it('NO_PROXY bypasses the proxy for a listed host; update.noProxy overrides NO_PROXY', async () => {
      const env = { HTTPS_PROXY: proxy.url, NO_PROXY: 'example.com, 127.0.0.1' };
      expect((await fetchAll(new HttpTransport({ tls: mutual(), proxy: proxySettings({}, env) }), url)).equals(BODY)).to.equal(true);
      expect(proxy.tunnels).to.deep.equal([]);
      await fetchAll(new HttpTransport({ tls: mutual(), proxy: proxySettings({ noProxy: [] }, env) }), url);
      expect(proxy.tunnels).to.have.length(1);
    });

    it('update.proxy overrides the environment', async () => {
      const transport = new HttpTransport({ tls: mutual(), proxy: proxySettings({ proxy: proxy.url }, { HTTPS_PROXY: 'http://127.0.0.1:9' }) });
      expect((await fetchAll(transport, url)).equals(BODY)).to.equal(true);
      expect(proxy.tunnels).to.have.length(1);
    });

    it('a proxy that refuses the tunnel, or is not there: PROXY_FAILED saying what it answered', async () => {
      const refusing = await startConnectProxy({ refuse: true });
      try {
        const err = await expectCodeAsync(() => fetchAll(new HttpTransport({ tls: mutual(), proxy: proxySettings({ proxy: refusing.url }, {}) }), url), 'PROXY_FAILED');
        expect(err.message).to.match(/expected 200 to CONNECT 127\.0\.0\.1:\d+, found 403/);
        expect(exitCodeFor(err.code)).to.equal(EXIT.ENVIRONMENT);
      } finally {
        await refusing.close();
      }
      const gone = await startConnectProxy();
      await gone.close();
      await expectCodeAsync(() => fetchAll(new HttpTransport({ tls: mutual(), proxy: proxySettings({ proxy: gone.url }, {}) }), url), 'PROXY_FAILED');
    });
  });

  describe('bandwidth cap', () => {
    it('holds a real transfer to the rate: simulated time spent ≥ (bytes − burst) / rate, bytes intact', async () => {
      // the limiter's clock is simulated: each wait advances it, so the assertion is about the bucket's
      // arithmetic over a real byte stream, not about this machine's timing
      let now = 0;
      const waits: number[] = [];
      const limiter = new RateLimiter(64 * 1024, () => now, (ms) => {
        waits.push(ms);
        now += ms;
        return Promise.resolve();
      });
      const got = await fetchAll(new HttpTransport({ tls: mutual(), limiter }), url);
      expect(got.equals(BODY)).to.equal(true);
      const minimum = ((BODY.length - limiter.rate.burstBytes) / limiter.rate.bytesPerSecond) * 1000;
      expect(now).to.be.at.least(minimum);
      expect(now).to.be.below(minimum * 1.5 + 1000); // not slower than the cap asks for, with margin
      expect(waits.length).to.be.above(1);
    });
  });
});
