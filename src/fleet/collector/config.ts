import { readFile } from 'node:fs/promises';
import { EdgesealError } from '../../core/errors.js';
import { Fields } from '../../config/fields.js';
import type { BrokerConfig } from '../../telemetry/broker-connect.js';
import { DEFAULT_PREFIX } from '../../telemetry/topics.js';
import { assertHttpExposure, type HttpConfig } from '../http/exposure.js';
import type { RetentionBound } from '../store/port.js';

// fleet.json: what `edgeseal fleet serve` reads (docs/fleet/README.md shows a full example).
export interface CollectorConfig {
  db: string; // SQLite file path or postgresql:// URL
  broker: BrokerConfig;
  prefix: string;
  fleets: string[];
  clientId: string; // fixed: the broker keeps this session's queue while the collector is away
  sessionExpirySeconds: number;
  collectorKey: string; // file holding the collector's ed25519 seed (64 hex); signs the ack marks
  retention: RetentionBound;
  http: HttpConfig; // dashboard, /api and /metrics
  shareGroup?: string; // MQTT 5 shared subscription group: several collectors split one fleet (not failover: docs)
}

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const ABS = { pattern: /^\//, describe: 'an absolute path' };
const WEEK = 7 * 24 * 3600;

export function parseCollectorConfig(raw: unknown, origin: string, env: NodeJS.ProcessEnv = process.env): CollectorConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new EdgesealError('CONFIG_INVALID', `${origin}: expected a JSON object, found ${JSON.stringify(raw)}`);
  const f = new Fields(raw as Record<string, unknown>);
  const fleets = f.stringList('fleets');
  for (const [i, id] of fleets.entries()) if (!ID.test(id)) f.problems.push(`fleets.${i}: expected [A-Za-z0-9._-]{1,128}, found ${JSON.stringify(id)}`);
  const config: CollectorConfig = {
    db: f.string('db', { describe: 'a SQLite file path or a postgresql:// URL' }),
    broker: {
      url: f.string('broker.url', { pattern: /^(mqtts?|wss?):\/\/[^\s]+$/, describe: 'a URL like mqtt://host:1883 or mqtts://host:8883' }),
      username: f.optionalString('broker.username'),
      password: env.EDGESEAL_BROKER_PASSWORD, // never in the file
      caFile: f.optionalString('broker.ca', ABS),
      certFile: f.optionalString('broker.cert', ABS),
      keyFile: f.optionalString('broker.key', ABS),
    },
    prefix: f.string('prefix', { default: DEFAULT_PREFIX, pattern: /^[^#+\s]+$/, describe: 'an MQTT topic prefix without wildcards' }),
    fleets,
    clientId: f.string('clientId', { default: 'edgeseal-collector', pattern: ID, describe: '[A-Za-z0-9._-]{1,128}' }),
    // MQTT 5: expiry 0 would end the session (and drop its queue) at every disconnect.
    sessionExpirySeconds: f.int('sessionExpirySeconds', { default: WEEK, min: 60, max: 0xffffffff }),
    collectorKey: f.string('collectorKey', ABS),
    retention: {
      maxAgeSeconds: f.has('retention.maxAgeDays') ? f.int('retention.maxAgeDays', { min: 1 }) * 86_400 : undefined,
      maxEvents: f.has('retention.maxEvents') ? f.int('retention.maxEvents', { min: 1 }) : undefined,
    },
    shareGroup: f.optionalString('shareGroup', { pattern: ID, describe: '[A-Za-z0-9._-]{1,128}' }),
    http: {
      host: f.string('http.host', { default: '127.0.0.1' }),
      port: f.int('http.port', { default: 9477, min: 0, max: 65535 }),
      tlsCert: f.optionalString('http.tlsCert', ABS),
      tlsKey: f.optionalString('http.tlsKey', ABS),
      tokenFile: f.optionalString('http.tokenFile', ABS),
    },
  };
  try {
    assertHttpExposure(config.http);
  } catch (err) {
    f.problems.push((err as Error).message);
  }
  if (fleets.length === 0) f.problems.push('fleets: expected at least one fleet id, found []');
  if (f.problems.length) throw new EdgesealError('CONFIG_INVALID', `${origin}: ${f.problems.join('; ')}`);
  return config;
}

export async function loadCollectorConfig(path: string): Promise<CollectorConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new EdgesealError('CONFIG_INVALID', `fleet config: expected a readable file, cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return parseCollectorConfig(JSON.parse(text), path);
  } catch (err) {
    if (err instanceof SyntaxError) throw new EdgesealError('CONFIG_INVALID', `${path}: expected JSON, found: ${err.message}`, { cause: err });
    throw err;
  }
}
