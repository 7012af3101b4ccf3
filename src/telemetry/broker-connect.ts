import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { EdgesealError } from '../core/errors.js';
import { readPemFile } from '../io/pem-file.js';
import { classifyBrokerError, parseBrokerUrl } from './broker-error.js';

// Broker settings as they appear in the agent config (TLS material by path; mutual TLS when cert+key).
export interface BrokerConfig {
  url: string;
  username?: string;
  password?: string;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  connectTimeoutMs?: number;
}

// mqtt.js options for one connection attempt; reconnects are ours (backoff with jitter), not mqtt.js's.
export async function clientOptions(cfg: BrokerConfig): Promise<IClientOptions> {
  parseBrokerUrl(cfg.url);
  if ((cfg.certFile === undefined) !== (cfg.keyFile === undefined)) {
    throw new EdgesealError('CONFIG_INVALID', 'broker mutual TLS: expected both certFile and keyFile, found only one');
  }
  const [ca, cert, key] = await Promise.all([readPemFile('broker caFile', cfg.caFile), readPemFile('broker certFile', cfg.certFile), readPemFile('broker keyFile', cfg.keyFile)]);
  const opts: IClientOptions = {
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: cfg.connectTimeoutMs ?? 10_000,
    rejectUnauthorized: true,
  };
  if (cfg.username !== undefined) opts.username = cfg.username;
  if (cfg.password !== undefined) opts.password = cfg.password;
  if (ca) opts.ca = ca;
  if (cert && key) Object.assign(opts, { cert, key });
  return opts;
}

// Connects once: resolves with a connected client, or rejects with BROKER_REJECTED / BROKER_UNREACHABLE.
export async function connectOnce(cfg: BrokerConfig, extra: IClientOptions = {}): Promise<MqttClient> {
  const opts = { ...(await clientOptions(cfg)), ...extra };
  const client = mqtt.connect(cfg.url, opts);
  return new Promise((resolve, reject) => {
    let failure: unknown;
    const onConnect = () => {
      client.removeListener('close', onClose);
      resolve(client);
    };
    const onError = (err: unknown) => (failure ??= err);
    const onClose = () => {
      client.removeListener('connect', onConnect);
      client.removeListener('error', onError);
      client.end(true);
      reject(classifyBrokerError(failure ?? new Error(`no CONNACK within ${String(opts.connectTimeout)} ms`), cfg.url));
    };
    client.once('connect', onConnect);
    client.on('error', onError);
    client.once('close', onClose);
  });
}
