import { isIP } from 'node:net';
import { EdgesealError } from '../core/errors.js';
import { redactUrl as redact } from '../core/redact-url.js';

// Which proxy, if any, a request goes through: pure over the settings, which come from update.proxy /
// update.noProxy when set, else from HTTPS_PROXY / HTTP_PROXY / NO_PROXY (curl's conventions: lower
// case wins, NO_PROXY lists hosts, domain suffixes, host:port, or `*`; no CIDR ranges).

export interface ProxySettings {
  readonly httpsProxy?: URL; // for https:// URLs (tunnelled with CONNECT)
  readonly httpProxy?: URL; // for http:// URLs (absolute-form requests)
  readonly noProxy: readonly string[];
}

export interface ProxyConfig {
  readonly proxy?: string; // update.proxy: one proxy for both schemes, overrides the environment
  readonly noProxy?: readonly string[]; // update.noProxy: overrides NO_PROXY
}

export const NO_PROXY_SETTINGS: ProxySettings = { noProxy: [] };

// Checks a proxy URL: an http:// proxy with a host (TLS to the proxy itself is not supported).
export function parseProxyUrl(raw: string, where: string): URL {
  let u: URL;
  try {
    u = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`);
  } catch (err) {
    throw new EdgesealError('CONFIG_INVALID', `${where}: expected a proxy URL like http://proxy.example:3128, found ${JSON.stringify(redact(raw))}`, { cause: err });
  }
  if (u.protocol !== 'http:' || u.hostname === '') {
    throw new EdgesealError('CONFIG_INVALID', `${where}: expected an http:// proxy URL with a host, found ${JSON.stringify(redact(raw))}`);
  }
  return u;
}

const env = (vars: NodeJS.ProcessEnv, name: string): string | undefined => vars[name.toLowerCase()] ?? vars[name.toUpperCase()] ?? undefined;
const nonEmpty = (s: string | undefined): string | undefined => (s?.trim() ? s.trim() : undefined);

// The settings a transport uses: the config's fields override the environment's variables.
export function proxySettings(config: ProxyConfig, vars: NodeJS.ProcessEnv): ProxySettings {
  const noProxy = config.noProxy ?? (nonEmpty(env(vars, 'no_proxy'))?.split(/[\s,]+/).filter(Boolean) ?? []);
  if (config.proxy !== undefined) {
    const u = parseProxyUrl(config.proxy, 'update.proxy');
    return { httpsProxy: u, httpProxy: u, noProxy };
  }
  const https = nonEmpty(env(vars, 'https_proxy'));
  const http = nonEmpty(env(vars, 'http_proxy'));
  return {
    ...(https ? { httpsProxy: parseProxyUrl(https, 'HTTPS_PROXY') } : {}),
    ...(http ? { httpProxy: parseProxyUrl(http, 'HTTP_PROXY') } : {}),
    noProxy,
  };
}

// True when `url`'s host is listed in NO_PROXY (exact host, a domain and its subdomains, host:port, `*`).
export function bypassesProxy(url: URL, noProxy: readonly string[]): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return noProxy.some((raw) => {
    const entry = raw.trim().toLowerCase();
    if (entry === '*') return true;
    if (isIP(entry.replace(/^\[|\]$/g, ''))) return entry.replace(/^\[|\]$/g, '') === host;
    const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(entry);
    if (!m) return false;
    if (m[2] !== undefined && m[2] !== port) return false;
    const name = m[1].replace(/^\[|\]$/g, '').replace(/^\*?\./, '.');
    if (isIP(name)) return name === host;
    return name.startsWith('.') ? host.endsWith(name) || host === name.slice(1) : host === name || host.endsWith(`.${name}`);
  });
}

// The proxy `url` goes through, or undefined for a direct connection.
export function proxyFor(url: URL, settings: ProxySettings): URL | undefined {
  const proxy = url.protocol === 'https:' ? settings.httpsProxy : settings.httpProxy;
  return proxy && !bypassesProxy(url, settings.noProxy) ? proxy : undefined;
}

// The Proxy-Authorization header for a proxy URL with user:password, else none.
export function proxyAuth(proxy: URL): Record<string, string> {
  if (!proxy.username) return {};
  return { 'proxy-authorization': `Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')}` };
}
