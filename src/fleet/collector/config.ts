import { readFile } from 'node:fs/promises';
import { EdgesealError } from '../../core/errors.js';
import { int, list, optional, section, str } from '../../config/fields.js';
import { Problems } from '../../config/problems.js';
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
  sessions?: number; // MQTT sessions inside this collector on one shared subscription: events in flight per group commit
  rollouts?: RolloutsConfig; // rollout view and automatic halt (docs/fleet/rollouts.md)
}

export interface RolloutsConfig {
  repository: string; // published repository directory (metadata/, targets/)
  trustedRoot: string; // root.json it is verified from
  checkSeconds: number;
  failureThresholdPercent: number;
  minSample: number;
  halt?: { workdir: string; key: string }; // with the online rollouts key: halts instead of alerting only
}

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const IDS = { pattern: ID, describe: '[A-Za-z0-9._-]{1,128}' };
const ABS = { pattern: /^\//, describe: 'an absolute path' };
const WEEK = 7 * 24 * 3600;

// Every field of fleet.json, one line each (the same definitions as the agent config: unknown keys are
// errors with a suggestion, wrong types name the field).
const COLLECTOR_CONFIG = section(
  {
    db: str({ description: 'SQLite file path or postgresql:// URL', describe: 'a SQLite file path or a postgresql:// URL' }),
    broker: section(
      {
        url: str({ description: 'MQTT broker URL', pattern: /^(mqtts?|wss?):\/\/[^\s]+$/, describe: 'a URL like mqtt://host:1883 or mqtts://host:8883' }),
        username: optional(str({ description: 'broker user name (the password comes from EDGESEAL_BROKER_PASSWORD, never the file)' })),
        ca: optional(str({ description: 'CA certificate (PEM) the broker certificate must chain to', ...ABS })),
        cert: optional(str({ description: 'client certificate (PEM) for mutual TLS', ...ABS })),
        key: optional(str({ description: 'client private key (PEM) for mutual TLS', ...ABS })),
      },
      { description: 'the MQTT broker the devices publish to' },
    ),
    prefix: str({ description: 'MQTT topic prefix', default: DEFAULT_PREFIX, pattern: /^[^#+\s]+$/, describe: 'an MQTT topic prefix without wildcards' }),
    fleets: list(str({ description: 'a fleet id', ...IDS }), { description: 'fleet ids this collector stores', minItems: 1 }),
    clientId: str({ description: 'fixed MQTT client id: the broker keeps this session queue while the collector is away', default: 'edgeseal-collector', ...IDS }),
    // MQTT 5: expiry 0 would end the session (and drop its queue) at every disconnect.
    sessionExpirySeconds: int({ description: 'MQTT 5 session expiry', default: WEEK, min: 60, max: 0xffffffff }),
    collectorKey: str({ description: "file holding the collector's ed25519 seed (64 hex); signs the ack marks", ...ABS }),
    retention: section(
      {
        maxAgeDays: optional(int({ description: 'drop events older than this', min: 1 })),
        maxEvents: optional(int({ description: 'keep at most this many events', min: 1 })),
      },
      { description: 'retention bound' },
    ),
    shareGroup: optional(str({ description: 'MQTT 5 shared subscription group: several collectors split one fleet (not failover)', ...IDS })),
    // mqtt.js holds one unacknowledged event per session, so this is how many events one commit can cover.
    sessions: int({ description: 'MQTT sessions in this collector (client ids <clientId>, <clientId>-1, …) sharing the subscription; events in flight per commit', default: 128, min: 1, max: 256 }),
    rollouts: optional(section(
      {
        repository: str({ description: 'published TUF repository directory (metadata/, targets/) the rollout policy is read from', ...ABS }),
        trustedRoot: str({ description: 'root.json the repository is verified from, as a device verifies it (the first root you trust)', ...ABS }),
        checkSeconds: int({ description: 'how often the policy is re-read and failure rates are checked', default: 60, min: 5, max: 86400 }),
        failureThresholdPercent: int({ description: 'a rollout fails when more than this % of its installs rolled back or were refused', default: 20, min: 1, max: 100 }),
        minSample: int({ description: 'installs a rollout needs before its failure rate counts', default: 10, min: 1 }),
        halt: optional(section(
          {
            workdir: str({ description: 'publisher workdir with the online snapshot and timestamp keys (repo.json, keys/, blobs/)', ...ABS }),
            key: str({ description: 'the online rollouts key: a key file or a signer reference (PKCS#11, command)', ...ABS }),
          },
          { description: 'halt a failing rollout by re-signing rollouts, snapshot and timestamp into the repository; without it only an alert fires' },
        )),
      },
      { description: 'rollout view and automatic halt (docs/fleet/rollouts.md)' },
    )),
    http: section(
      {
        host: str({ description: 'listen address (loopback unless TLS and a token are set)', default: '127.0.0.1' }),
        port: int({ description: 'listen port', default: 9477, min: 0, max: 65535 }),
        tlsCert: optional(str({ description: 'TLS certificate (PEM)', ...ABS })),
        tlsKey: optional(str({ description: 'TLS private key (PEM)', ...ABS })),
        tokenFile: optional(str({ description: 'file holding the bearer token', ...ABS })),
      },
      { description: 'dashboard, /api and /metrics' },
    ),
  },
  { description: 'edgeseal fleet collector configuration' },
);

export function parseCollectorConfig(raw: unknown, origin: string, env: NodeJS.ProcessEnv = process.env): CollectorConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new EdgesealError('CONFIG_INVALID', `${origin}: expected a JSON object, found ${JSON.stringify(raw)}`);
  const p = new Problems();
  const c = COLLECTOR_CONFIG.read(raw, '', p);
  const { retention: r, broker: b } = c;
  const config: CollectorConfig = {
    db: c.db,
    broker: { url: b.url, username: b.username, password: env.EDGESEAL_BROKER_PASSWORD, caFile: b.ca, certFile: b.cert, keyFile: b.key },
    prefix: c.prefix,
    fleets: [...c.fleets],
    clientId: c.clientId,
    sessionExpirySeconds: c.sessionExpirySeconds,
    collectorKey: c.collectorKey,
    retention: { maxAgeSeconds: r.maxAgeDays === undefined ? undefined : r.maxAgeDays * 86_400, maxEvents: r.maxEvents },
    ...(c.shareGroup ? { shareGroup: c.shareGroup } : {}),
    sessions: c.sessions,
    ...(c.rollouts ? { rollouts: { ...c.rollouts, ...(c.rollouts.halt ? { halt: { ...c.rollouts.halt } } : {}) } } : {}),
    http: c.http,
  };
  if (!p.count) {
    try {
      assertHttpExposure(config.http);
    } catch (err) {
      p.add((err as Error).message);
    }
  }
  if (p.count) throw new EdgesealError('CONFIG_INVALID', `${origin} has ${p.summary()}`);
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
