// Client code of the dashboard, served as /dashboard.js. Plain ES2020 for the browser; device strings
// only ever reach the page through textContent.
export const DASHBOARD_JS = String.raw`'use strict';
const $ = (id) => document.getElementById(id);
const pct = (x) => (x === null || x === undefined ? '–' : (100 * x).toFixed(1) + ' %');
const get = async (path) => { const r = await fetch(path, { headers: { accept: 'application/json' } }); if (!r.ok) throw new Error(path + ': ' + r.status); return r.json(); };
function row(table, cells, cls) {
  const tr = document.createElement('tr');
  if (cls) tr.className = cls;
  for (const c of cells) { const td = document.createElement('td'); td.textContent = c === undefined || c === null ? '' : String(c); tr.appendChild(td); }
  table.tBodies[0].appendChild(tr);
  return tr;
}
const ranges = (rs) => rs.map((g) => g[0] === g[1] ? g[0] : g[0] + '-' + g[1]).join(',');
const slots = (d) => d.slots === null ? '' : ['A', 'B'].filter((k) => d.slots[k]).map((k) => k + ': ' + d.slots[k].target + ' ' + (d.slots[k].version || '')).join('; ') + ' (' + d.activeSlot + '/' + d.goodSlot + ')';
const floors = (f) => f === null ? '' : 'root ' + f.rootVersion + ', security ' + f.securityVersion + ', targets ' + f.targetsVersion + ', revocation ' + f.revocationVersion;
function chart(el, title, labels, data) {
  const width = Math.min(900, window.innerWidth - 60);
  const series = [{}].concat(labels.map((l, i) => ({ label: l, stroke: ['#1f77b4', '#d62728', '#2ca02c'][i % 3], width: 2 })));
  return new uPlot({ title, width, height: 220, series }, data, el);
}
async function showTimeline(fleet, device) {
  $('timeline-device').textContent = fleet + '/' + device;
  const t = $('timeline');
  t.tBodies[0].replaceChildren();
  for (const e of await get('/api/timeline?fleet=' + encodeURIComponent(fleet) + '&device=' + encodeURIComponent(device))) {
    row(t, [(e.keyId || '').slice(0, 12), e.seq, e.at, e.type, e.verdict, e.code || e.reason, e.signature], e.signature === 'verified' ? '' : e.signature);
  }
}
function showRollouts(r) {
  const state = $('rollouts-state');
  if (!r.configured) { state.textContent = 'not configured: set "rollouts" in fleet.json (docs/fleet/rollouts.md)'; return; }
  const action = r.autoHalt ? 'halts automatically' : 'alerts only (no rollouts key)';
  state.textContent = 'policy ' + (r.policyVersion === null ? 'none' : 'v' + r.policyVersion) + ', read ' + (r.readAt || 'never') + '; ' + action + ' above ' + r.thresholdPercent + ' % failures (at least ' + r.minSample + ' installs)' + (r.error ? '; ERROR [' + r.error.code + '] ' + r.error.message : '');
  for (const x of r.rollouts) {
    const status = x.halted ? 'HALTED' : x.overThreshold ? 'FAILING' : 'running at ' + x.percentNow + ' %';
    const failures = (x.failureRate === null ? '–' : pct(x.failureRate)) + ' (' + x.failures + ' of ' + x.installs + ')';
    for (const s of x.steps) {
      const cls = [s.current ? 'current' : '', x.halted ? 'halted' : x.overThreshold ? 'failing' : ''].filter(Boolean).join(' ');
      row($('rollout-steps'), [x.target, x.version, status, s.percent + ' %', s.from || 'at once', s.cohort + ' of ' + x.eligible, s.installed, s.committed, failures], cls);
    }
  }
  for (const h of r.halts) row($('rollout-halts'), [h.at, h.target, pct(h.failureRate) + ' (' + h.failures + ' of ' + h.installs + ')', h.result], h.ok ? 'halted' : 'failing');
}
async function load() {
  const [sli15, sli24, inv, refusals, rejected, series, alerts, rollouts] = await Promise.all([
    get('/api/sli?window=900'), get('/api/sli?window=86400'), get('/api/inventory'), get('/api/refusals?limit=50'), get('/api/rejected'), get('/api/series?window=3600&step=60'), get('/api/alerts'), get('/api/rollouts'),
  ]);
  showRollouts(rollouts);
  $('signed-rate').textContent = pct(sli24.signedDeploy.rate);
  $('blocked-count').textContent = String(Object.values(sli24.blockedByCode).reduce((a, b) => a + b, 0));
  $('audit').textContent = pct(sli24.auditCompleteness.ratio);
  $('audit-missing').textContent = 'lost in transit ' + sli24.auditCompleteness.lostInTransit + ', dropped by devices ' + sli24.auditCompleteness.deviceDropped;
  const roots = inv.map((d) => d.rootVersion).filter((v) => v !== null);
  const newest = roots.length ? Math.max(...roots) : null;
  $('rotation').textContent = newest === null ? '–' : 'v' + newest + ': ' + roots.filter((v) => v === newest).length + '/' + inv.length;
  $('verify-rate').textContent = pct(sli15.verify.successRate);
  $('error-rate').textContent = pct(sli15.fetchStorageErrors.rate);
  $('rejected').textContent = String(Object.values(rejected.counts).reduce((a, b) => a + b, 0));
  for (const r of refusals) row($('refusals'), [r.at, r.fleet + '/' + r.deviceId, r.type, r.code, r.image, r.detail]);
  for (const a of alerts) { const li = document.createElement('li'); const link = document.createElement('a'); link.href = a.runbook; link.textContent = a.alert; li.append(link, document.createTextNode(': ' + a.summary)); $('alerts').appendChild(li); }
  const invTable = $('inventory');
  for (const d of inv) {
    const tr = row(invTable, [d.fleet, d.deviceId, d.hardwareId, d.installed ? d.installed.name + ' ' + (d.installed.version || '') : '', slots(d), floors(d.floors), d.rootVersion, d.revocation ? 'v' + d.revocation.version + ', ' + d.revocation.ageSeconds + ' s' : '', d.lastSeenAt, ranges(d.gaps), ranges(d.deviceDropped), d.online ? d.online.state : 'unknown']);
    tr.dataset.search = [d.deviceId, d.hardwareId, d.installed ? d.installed.name : ''].join(' ').toLowerCase();
    tr.addEventListener('click', () => void showTimeline(d.fleet, d.deviceId));
  }
  $('filter').addEventListener('input', (ev) => { const q = ev.target.value.toLowerCase(); for (const tr of invTable.tBodies[0].rows) tr.hidden = !tr.dataset.search.includes(q); });
  chart($('chart-events'), 'Events stored per minute', ['events', 'blocked'], [series.t, series.events, series.blocked]);
  chart($('chart-verify'), 'Verify success rate', ['success rate'], [series.t, series.verifyRate]);
  chart($('chart-latency'), 'Verify latency p95 (ms)', ['p95'], [series.t, series.latencyP95]);
  if (inv[0]) await showTimeline(inv[0].fleet, inv[0].deviceId);
  document.body.dataset.loaded = 'true';
}
load().catch((err) => { document.body.dataset.loaded = 'error'; const p = document.createElement('p'); p.textContent = String(err); document.body.prepend(p); });
`;
