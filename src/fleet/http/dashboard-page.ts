// The dashboard document. No inline script or style (the CSP forbids both): behaviour comes from
// /dashboard.js, charts from uPlot served out of node_modules, and every device-supplied string is
// inserted with textContent, never as HTML.
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>edgeseal fleet</title>
<link rel="stylesheet" href="/assets/uPlot.min.css">
<link rel="stylesheet" href="/dashboard.css">
</head>
<body>
<header><h1>edgeseal fleet</h1><nav><a href="#executive">Executive</a> <a href="#oncall">On-call</a> <a href="#rollouts">Rollouts</a> <a href="#debug">Debug</a></nav></header>
<section id="executive"><h2>Executive</h2>
  <div class="tiles"><div class="tile"><span class="label">Signed deploy rate</span><span id="signed-rate" class="value">–</span></div>
  <div class="tile"><span class="label">Blocked deploys (24 h)</span><span id="blocked-count" class="value">–</span></div>
  <div class="tile"><span class="label">Audit completeness</span><span id="audit" class="value">–</span><span id="audit-missing" class="label"></span></div>
  <div class="tile"><span class="label">Newest root on</span><span id="rotation" class="value">–</span></div></div>
  <div id="chart-events" class="chart"></div>
</section>
<section id="oncall"><h2>On-call</h2>
  <div class="tiles"><div class="tile"><span class="label">Verify success (15 min)</span><span id="verify-rate" class="value">–</span></div>
  <div class="tile"><span class="label">Fetch/storage error rate (15 min)</span><span id="error-rate" class="value">–</span></div>
  <div class="tile"><span class="label">Rejected events</span><span id="rejected" class="value">–</span></div></div>
  <div id="chart-verify" class="chart"></div>
  <h3>Recent refusals</h3><table id="refusals"><thead><tr><th>received</th><th>device</th><th>type</th><th>code</th><th>image</th><th>detail</th></tr></thead><tbody></tbody></table>
  <h3>Alerts</h3><ul id="alerts"></ul>
</section>
<section id="rollouts"><h2>Rollouts</h2>
  <p id="rollouts-state"></p>
  <table id="rollout-steps"><thead><tr><th>target</th><th>version</th><th>state</th><th>step</th><th>from</th><th>cohort</th><th>installed</th><th>committed</th><th>failure rate (installs)</th></tr></thead><tbody></tbody></table>
  <h3>Automatic halts</h3><table id="rollout-halts"><thead><tr><th>at</th><th>target</th><th>failure rate</th><th>result</th></tr></thead><tbody></tbody></table>
</section>
<section id="debug"><h2>Debug</h2>
  <div id="chart-latency" class="chart"></div>
  <h3>Inventory</h3><label>Filter <input id="filter" type="search" placeholder="device, hardware id, image"></label>
  <table id="inventory"><thead><tr><th>fleet</th><th>device</th><th>hardware</th><th>installed</th><th>slots (active/good)</th><th>TPM floors</th><th>root</th><th>revocation</th><th>last seen</th><th>lost in transit</th><th>dropped by device</th><th>status (unauthenticated)</th></tr></thead><tbody></tbody></table>
  <h3>Timeline <span id="timeline-device"></span></h3><table id="timeline"><thead><tr><th>key</th><th>seq</th><th>received</th><th>type</th><th>verdict</th><th>code</th><th>signature</th></tr></thead><tbody></tbody></table>
</section>
<script src="/assets/uPlot.iife.min.js"></script>
<script src="/dashboard.js"></script>
</body>
</html>
`;

export const DASHBOARD_CSS = `body{font-family:system-ui,sans-serif;margin:0 1.5rem;color:#222}
header{display:flex;gap:2rem;align-items:baseline}
.tiles{display:flex;gap:1rem;flex-wrap:wrap}.tile{border:1px solid #ccc;border-radius:6px;padding:.6rem 1rem;min-width:12rem}
.label{display:block;font-size:.8rem;color:#555}.value{font-size:1.6rem;font-weight:600}
table{border-collapse:collapse;margin:.5rem 0}td,th{border-bottom:1px solid #ddd;padding:.2rem .6rem;text-align:left;font-size:.85rem}
tr.missing td,tr.failing td{background:#fde2e2}tr.dropped td{background:#eee}tr.rejected td,tr.halted td{background:#fff3cd}tr.current td{font-weight:600}.chart{margin:1rem 0}
`;
