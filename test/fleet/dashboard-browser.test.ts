import { expect } from 'chai';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer, { type Browser } from 'puppeteer-core';
import { startFleetHttp, type FleetHttp } from '../../src/fleet/http/server.js';
import { RolloutMonitor } from '../../src/fleet/rollouts/monitor.js';
import { filledStore, HOSTILE } from './fleet-http-rig.js';
import { rolloutRepo } from './rollout-repo.js';

const CHROMIUM = '/usr/bin/chromium'; // Debian's package (apt-get install chromium); never a downloaded browser
const ARTIFACTS = process.env.EDGESEAL_ARTIFACTS ?? fileURLToPath(new URL('../../../.tmp/artifacts/', import.meta.url));
const NOW = Date.now();

describe('fleet dashboard in headless Chromium', function () {
  this.timeout(60_000);
  let rig: Awaited<ReturnType<typeof filledStore>>;
  let http: FleetHttp;
  let browser: Browser;
  let profile: string;
  let scratch: string;
  before(async () => {
    rig = await filledStore(NOW);
    // os.img (the device installed and committed it) under a 100 % rollout for board-a
    scratch = await mkdtemp(join(tmpdir(), 'es-dash-rollout-'));
    const pub = await rolloutRepo(scratch, { name: 'os.img', version: '1.0.0', hardwareIds: ['board-a'] }, { kind: 'percent', percent: 100 }, new Date(NOW - 3600_000));
    const rollouts = new RolloutMonitor({ config: { repository: pub.published, trustedRoot: pub.trustedRoot, checkSeconds: 60, failureThresholdPercent: 20, minSample: 1 }, store: rig.store, log: () => undefined });
    await rollouts.refresh(new Date(NOW));
    http = await startFleetHttp({ config: { host: '127.0.0.1', port: 0 }, store: rig.store, statuses: rig.statuses, rollouts });
    profile = await mkdtemp(join(tmpdir(), 'es-chromium-'));
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', `--user-data-dir=${profile}`],
    });
  });
  after(async () => {
    await browser?.close();
    await http.close();
    await rig.cleanup();
    await rm(profile, { recursive: true, force: true });
    await rm(scratch, { recursive: true, force: true });
  });

  it('renders the views with charts, inventory, refusals and rollouts; a hostile device string executes nothing', async () => {
    const page = await browser.newPage();
    const violations: string[] = [];
    page.on('console', (m) => m.text().includes('Content Security Policy') && violations.push(m.text()));
    await page.setViewport({ width: 1200, height: 1800 });
    await page.goto(`${http.url}/`, { waitUntil: 'networkidle0' });
    await page.waitForFunction(() => document.body.dataset.loaded !== undefined, { timeout: 20_000 });
    const seen = await page.evaluate(() => ({
      loaded: document.body.dataset.loaded,
      charts: document.querySelectorAll('.uplot canvas').length,
      inventory: [...document.querySelectorAll('#inventory tbody tr')].map((tr) => tr.textContent),
      refusal: document.querySelector('#refusals tbody tr')?.textContent ?? '',
      timeline: [...document.querySelectorAll('#timeline tbody tr')].map((tr) => tr.className),
      alerts: [...document.querySelectorAll('#alerts a')].map((a) => a.getAttribute('href')),
      rollouts: [...document.querySelectorAll<HTMLTableRowElement>('#rollout-steps tbody tr')].map((tr) => [tr.className, ...[...tr.cells].map((td) => td.textContent)]),
      rolloutState: document.getElementById('rollouts-state')?.textContent ?? '',
      signedRate: document.getElementById('signed-rate')?.textContent,
      verifyRate: document.getElementById('verify-rate')?.textContent,
      imgs: document.querySelectorAll('img').length,
      pwned: (window as unknown as { __pwned?: number }).__pwned,
    }));
    await mkdir(ARTIFACTS, { recursive: true });
    const shot = join(ARTIFACTS, 'fleet-dashboard.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect(seen.loaded).to.equal('true');
    expect(seen.charts).to.equal(3);
    expect(seen.inventory).to.have.length(1);
    expect(seen.inventory[0]).to.include(rig.deviceId).and.include('os.img 1.0.0').and.include('online');
    expect(seen.refusal).to.include('DIGEST_MISMATCH').and.include('os-evil.img').and.include(HOSTILE); // shown as text
    expect(seen.timeline).to.deep.equal(['', '', '', '', 'missing', '', 'rejected']);
    expect(seen.alerts).to.include('/runbooks/audit-gaps.md').and.include('/runbooks/rollout-failing.md');
    expect(seen.rollouts).to.deep.equal([['current', 'os.img', '1.0.0', 'running at 100 %', '100 %', 'at once', '1 of 1', '1', '1', '0.0 % (0 of 1)']]);
    expect(seen.rolloutState).to.match(/^policy v1, read \S+; alerts only \(no rollouts key\) above 20 % failures \(at least 1 installs\)$/);
    expect([seen.signedRate, seen.verifyRate]).to.deep.equal(['100.0 %', '50.0 %']);
    expect([seen.imgs, seen.pwned, violations]).to.deep.equal([0, undefined, []]);
    expect((await stat(shot)).size).to.be.greaterThan(10_000);
  });
});
