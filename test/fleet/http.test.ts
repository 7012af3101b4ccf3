import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { startFleetHttp, type FleetHttp } from '../../src/fleet/http/server.js';
import { expectCodeAsync } from '../helpers/expect-code.js';
import { makeTestPki } from '../telemetry/test-ca.js';
import { filledStore, HOSTILE } from './fleet-http-rig.js';

const NOW = Date.parse('2026-03-01T12:00:00.000Z');

// promtool reads the exposition text on stdin.
function promtoolCheckMetrics(text: string): Promise<{ code: number | null; out: string }> {
  const child = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  child.stdin.end(text);
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out })));
}

describe('fleet HTTP: JSON API, /metrics, dashboard headers (loopback)', function () {
  this.timeout(30_000);
  let rig: Awaited<ReturnType<typeof filledStore>>;
  let http: FleetHttp;
  before(async () => {
    rig = await filledStore(NOW);
    http = await startFleetHttp({ config: { host: '127.0.0.1', port: 0 }, store: rig.store, statuses: rig.statuses, clock: () => NOW });
  });
  after(async () => {
    await http.close();
    await rig.cleanup();
  });
  const json = async (path: string): Promise<unknown> => (await fetch(`${http.url}${path}`)).json();

  it('serves the dashboard with a CSP that forbids inline script, and uPlot from node_modules', async () => {
    const r = await fetch(`${http.url}/`);
    expect(r.status).to.equal(200);
    expect(r.headers.get('content-security-policy')).to.include("script-src 'self'").and.include("default-src 'none'");
    expect(await r.text()).to.include('<script src="/assets/uPlot.iife.min.js"></script>').and.not.include('<script>');
    const lib = await fetch(`${http.url}/assets/uPlot.iife.min.js`);
    expect([lib.status, lib.headers.get('content-type')]).to.deep.equal([200, 'text/javascript']);
    expect((await lib.text()).length).to.be.greaterThan(10_000);
  });

  it('answers the API from signed events: inventory, SLIs, refusals, timeline with the gap and the forgery', async () => {
    const [row] = (await json('/api/inventory')) as { deviceId: string; installed: unknown; rootVersion: number; gaps: number[][]; online: { authenticated: boolean } }[];
    expect(row).to.deep.include({ deviceId: rig.deviceId, installed: { name: 'os.img', version: '1.0.0' }, rootVersion: 2, gaps: [[5, 5]] });
    expect(row?.online.authenticated).to.equal(false);
    expect(await json('/api/sli?window=900')).to.deep.include({ verify: { attempts: 2, successes: 1, successRate: 0.5 }, blockedByCode: { DIGEST_MISMATCH: 1 } });
    const [refusal] = (await json('/api/refusals')) as { detail: string; image: string }[];
    expect(refusal).to.deep.include({ image: 'os-evil.img', detail: HOSTILE }); // JSON keeps the string; the page escapes it
    const tl = (await json(`/api/timeline?fleet=lab&device=${rig.deviceId}`)) as { seq: number; signature: string }[];
    expect(tl.map((e) => [e.seq, e.signature])).to.deep.equal([[1, 'verified'], [2, 'verified'], [3, 'verified'], [4, 'verified'], [5, 'missing'], [6, 'verified'], [7, 'rejected']]);
    const bad = await fetch(`${http.url}/api/sli?window=-1`);
    expect([bad.status, ((await bad.json()) as { code: string }).code]).to.deep.equal([400, 'USAGE']);
  });

  it('exports /metrics that promtool accepts, with the SLIs labelled by fleet and hardware id', async () => {
    const text = await (await fetch(`${http.url}/metrics`)).text();
    expect(text).to.include('edgeseal_fleet_verify_attempts_total{fleet="lab",hardware_id="board-a"} 2');
    expect(text).to.include('edgeseal_fleet_blocked_installs_total{fleet="lab",hardware_id="board-a",code="DIGEST_MISMATCH"} 1');
    expect(text).to.include('edgeseal_fleet_rejected_events_total{reason="SIGNATURE_INVALID"} 1');
    expect(text).to.include('edgeseal_fleet_audit_received_events{fleet="lab"} 5').and.include('edgeseal_fleet_audit_expected_events{fleet="lab"} 6');
    const check = await promtoolCheckMetrics(text);
    expect(check, check.out).to.deep.equal({ code: 0, out: '' });
  });

  it('serves the runbooks the alerts link to, and nothing else from disk', async () => {
    expect((await fetch(`${http.url}/runbooks/audit-gaps.md`)).status).to.equal(200);
    expect((await fetch(`${http.url}/runbooks/..%2f..%2fpackage.json`)).status).to.equal(404);
  });
});

describe('fleet HTTP: TLS and bearer token', function () {
  this.timeout(30_000);

  it('refuses to listen beyond loopback without TLS and a token', async () => {
    const rig = await filledStore(NOW);
    try {
      await expectCodeAsync(() => startFleetHttp({ config: { host: '0.0.0.0', port: 0 }, store: rig.store, statuses: rig.statuses }), 'CONFIG_INVALID');
    } finally {
      await rig.cleanup();
    }
  });

  it('refuses a request without the bearer token and serves one with it, over TLS', async () => {
    const pki = await makeTestPki();
    const rig = await filledStore(NOW);
    const tokenFile = `${pki.caFile}.token`;
    await writeFile(tokenFile, 'operator-token-1\n', { mode: 0o600 });
    const http = await startFleetHttp({ config: { host: '127.0.0.1', port: 0, tlsCert: pki.serverCert, tlsKey: pki.serverKey, tokenFile }, store: rig.store, statuses: rig.statuses });
    const ca = await readFile(pki.caFile);
    const get = (token?: string): Promise<number | undefined> =>
      new Promise((resolve, reject) => {
        const req = request(`${http.url}/api/inventory`, { ca, headers: token ? { authorization: `Bearer ${token}` } : {} }, (res) => (res.resume(), resolve(res.statusCode)));
        req.on('error', reject);
        req.end();
      });
    try {
      expect(http.url).to.match(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(await get()).to.equal(401);
      expect(await get('operator-token-2')).to.equal(401);
      expect(await get('operator-token-1')).to.equal(200);
    } finally {
      await http.close();
      await rig.cleanup();
    }
  });
});
