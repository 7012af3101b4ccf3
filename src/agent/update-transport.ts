import type { AgentConfig } from '../config/schema.js';
import { readPemFile } from '../io/pem-file.js';
import { HttpTransport } from '../net/http-transport.js';
import { proxySettings } from '../net/proxy.js';
import type { RateLimiter } from '../net/throttle.js';

// The transport every update-path download of this device uses (metadata refresh, target download,
// revocation list): update.tls, update.proxy/noProxy over the environment, and the device's one
// bandwidth limiter (update.maxBytesPerSecond). TLS files are read per run, so renewals need no restart.
export async function updateTransport(config: AgentConfig, bandwidth: RateLimiter | undefined, env: NodeJS.ProcessEnv = process.env): Promise<HttpTransport> {
  const u = config.update;
  const [ca, cert, key] = await Promise.all([readPemFile('update.tls.ca', u.tls?.ca), readPemFile('update.tls.cert', u.tls?.cert), readPemFile('update.tls.key', u.tls?.key)]);
  return new HttpTransport({
    tls: { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) },
    proxy: proxySettings({ ...(u.proxy !== undefined ? { proxy: u.proxy } : {}), ...(u.noProxy ? { noProxy: u.noProxy } : {}) }, env),
    ...(bandwidth ? { limiter: bandwidth } : {}),
  });
}
