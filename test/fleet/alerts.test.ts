import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { access, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ALERTS } from '../../src/fleet/http/alerts.js';

const run = promisify(execFile);
const docs = (p: string): string => fileURLToPath(new URL(`../../../docs/${p}`, import.meta.url));

// promtool comes from Debian's prometheus package.
describe('docs/fleet/alerts.yml (promtool)', function () {
  this.timeout(30_000);

  it('passes promtool check rules and one promtool unit test per alert', async () => {
    const check = await run('promtool', ['check', 'rules', docs('fleet/alerts.yml')]);
    expect(check.stdout).to.include(`SUCCESS: ${ALERTS.length} rules found`);
    const test = await run('promtool', ['test', 'rules', docs('fleet/alerts.test.yml')]);
    expect(test.stdout).to.include('SUCCESS');
    const tests = await readFile(docs('fleet/alerts.test.yml'), 'utf8');
    for (const a of ALERTS) expect(tests, `a promtool test for ${a.alert}`).to.include(`alertname: ${a.alert}`);
  });

  it('links every alert to a runbook that exists, and the dashboard lists the same alerts', async () => {
    const rules = await readFile(docs('fleet/alerts.yml'), 'utf8');
    const names = [...rules.matchAll(/- alert: (\S+)/g)].map((m) => m[1]);
    const links = [...rules.matchAll(/runbook_url: (\S+)/g)].map((m) => m[1]);
    expect(names).to.deep.equal(ALERTS.map((a) => a.alert));
    expect(links).to.deep.equal(ALERTS.map((a) => a.runbook));
    for (const a of ALERTS) await access(docs(a.runbook.replace(/^\//, '')));
  });
});
