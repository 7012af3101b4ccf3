import { readFile } from 'node:fs/promises';
import { createServer as createHttp, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttps } from 'node:https';
import { createRequire } from 'node:module';
import { asEdgesealError, EdgesealError } from '../../core/errors.js';
import type { StatusMessage } from '../inventory.js';
import type { FleetStore } from '../store/port.js';
import { ALERTS } from './alerts.js';
import { hasBearer, SECURITY_HEADERS } from './auth.js';
import { DASHBOARD_CSS, DASHBOARD_HTML } from './dashboard-page.js';
import { DASHBOARD_JS } from './dashboard-script.js';
import { assertHttpExposure, type HttpConfig } from './exposure.js';
import { inventory, loadSnapshot, refusals, series, sli, timeline } from './fleet-view.js';
import { NOT_CONFIGURED, type RolloutMonitor } from '../rollouts/monitor.js';
import { renderMetrics } from './prom.js';

export interface HttpDeps {
  config: HttpConfig;
  store: FleetStore;
  statuses: ReadonlyMap<string, StatusMessage>;
  rollouts?: Pick<RolloutMonitor, 'report'>; // absent: the rollout view says it is not configured
  clock?: () => number;
}

export interface FleetHttp {
  readonly url: string;
  close(): Promise<void>;
}

const RUNBOOKS = new URL('../../../../docs/runbooks/', import.meta.url);
const UPLOT: Record<string, [string, string]> = {
  '/assets/uPlot.iife.min.js': ['uplot/dist/uPlot.iife.min.js', 'text/javascript'],
  '/assets/uPlot.min.css': ['uplot/dist/uPlot.min.css', 'text/css'],
};
const intParam = (q: URLSearchParams, name: string, def: number, max: number): number => {
  const v = q.get(name);
  const n = v === null ? def : Number(v);
  if (!Number.isSafeInteger(n) || n < 1 || n > max) throw new EdgesealError('USAGE', `${name}: expected an integer from 1 to ${max}, found ${JSON.stringify(v)}`);
  return n;
};

function send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type });
  res.end(body);
}

// JSON API behind the dashboard (docs/fleet/README.md, "HTTP API").
async function api(path: string, q: URLSearchParams, deps: HttpDeps): Promise<unknown> {
  const now = (deps.clock ?? Date.now)();
  if (path === '/api/alerts') return ALERTS;
  const s = await loadSnapshot(deps.store, deps.statuses);
  switch (path) {
    case '/api/inventory': return inventory(s, now);
    case '/api/sli': {
      const by = q.get('by');
      if (by !== null && by !== 'fleet' && by !== 'hardwareId') throw new EdgesealError('USAGE', `by: expected fleet|hardwareId, found ${JSON.stringify(by)}`);
      return sli(s, now, intParam(q, 'window', 900, 366 * 86400), by ?? undefined);
    }
    case '/api/refusals': return refusals(s, intParam(q, 'limit', 50, 1000));
    case '/api/rejected': return { counts: s.rejectedCounts, conflicts: s.conflicts, recent: s.rejected.slice(-50).map(({ raw: _raw, ...r }) => r) };
    case '/api/timeline': return timeline(s, q.get('fleet') ?? '', q.get('device') ?? '');
    case '/api/rollouts': return deps.rollouts?.report(s, new Date(now)) ?? NOT_CONFIGURED;
    case '/api/series': return series(s, now, intParam(q, 'window', 3600, 31 * 86400), intParam(q, 'step', 60, 86400));
    default: return undefined;
  }
}

async function route(req: IncomingMessage, res: ServerResponse, deps: HttpDeps): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://collector');
  const p = url.pathname;
  if (req.method !== 'GET') return send(res, 405, 'text/plain', 'method not allowed\n');
  if (p === '/') return send(res, 200, 'text/html; charset=utf-8', DASHBOARD_HTML);
  if (p === '/dashboard.js') return send(res, 200, 'text/javascript', DASHBOARD_JS);
  if (p === '/dashboard.css') return send(res, 200, 'text/css', DASHBOARD_CSS);
  const asset = UPLOT[p];
  if (asset) return send(res, 200, asset[1], await readFile(createRequire(import.meta.url).resolve(asset[0])));
  if (p === '/metrics') {
    const now = (deps.clock ?? Date.now)();
    const s = await loadSnapshot(deps.store, deps.statuses);
    const m = await renderMetrics(s, now, deps.rollouts?.report(s, new Date(now)));
    return send(res, 200, m.contentType, m.body);
  }
  const runbook = /^\/runbooks\/([a-z-]+)\.md$/.exec(p);
  if (runbook && ALERTS.some((a) => a.runbook === p)) return send(res, 200, 'text/plain; charset=utf-8', await readFile(new URL(`${runbook[1]}.md`, RUNBOOKS)));
  if (p.startsWith('/api/')) {
    const body = await api(p, url.searchParams, deps);
    if (body !== undefined) return send(res, 200, 'application/json', JSON.stringify(body));
  }
  send(res, 404, 'text/plain', 'not found\n');
}

// The collector's HTTP listener: loopback by default; elsewhere only with TLS and a bearer token.
export async function startFleetHttp(deps: HttpDeps): Promise<FleetHttp> {
  const c = deps.config;
  assertHttpExposure(c);
  const token = c.tokenFile === undefined ? undefined : (await readFile(c.tokenFile, 'utf8')).trim();
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    if (!hasBearer(req, token)) {
      res.writeHead(401, { ...SECURITY_HEADERS, 'www-authenticate': 'Bearer', 'content-type': 'text/plain' });
      res.end('bearer token required\n');
      return;
    }
    route(req, res, deps).catch((err: unknown) => {
      const e = asEdgesealError(err);
      send(res, e.code === 'USAGE' ? 400 : 500, 'application/json', JSON.stringify({ code: e.code, message: e.message }));
    });
  };
  const server: Server = c.tlsCert && c.tlsKey ? createHttps({ cert: await readFile(c.tlsCert), key: await readFile(c.tlsKey) }, handler) : createHttp(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new EdgesealError('USAGE', `http: cannot listen on ${c.host}:${c.port}: ${err.message}`, { cause: err })));
    server.listen(c.port, c.host, () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : c.port;
  const host = c.host.includes(':') ? `[${c.host}]` : c.host;
  return {
    url: `${c.tlsCert ? 'https' : 'http'}://${host}:${port}`,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
