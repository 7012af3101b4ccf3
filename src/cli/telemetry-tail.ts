import { randomBytes } from 'node:crypto';
import { EdgesealError } from '../core/errors.js';
import { connectOnce, type BrokerConfig } from '../telemetry/broker-connect.js';
import { formatMessage } from '../telemetry/format.js';
import { loadPublicKey } from '../telemetry/public-key.js';
import { DEFAULT_PREFIX, fleetFilter } from '../telemetry/topics.js';
import { EXIT, parseCommandArgs, required, type Command } from './command.js';

const NAME = 'telemetry tail';

function positiveInt(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new EdgesealError('USAGE', `${NAME}: --${name} expected a positive integer, found ${JSON.stringify(value)}`);
  return n;
}

// Subscribes to a fleet's telemetry and prints one line per message until Ctrl-C (or --count messages).
export const telemetryTailCommand: Command = {
  name: NAME,
  usage: [
    'telemetry tail --broker URL --fleet F [--device D] [--prefix P] [--pubkey FILE|HEX] [--json] [--count N]',
    '               [--ca FILE] [--cert FILE --key FILE] [--username U]',
    '',
    '  --broker    mqtt://host:1883 or mqtts://host:8883',
    '  --pubkey    check each event signature against this device key (exit 1 if any is forged)',
    '  --json      print raw signed envelopes, one per line (input for `edgeseal telemetry verify`)',
    '  --count     exit after N messages',
    '  password:   read from the EDGESEAL_BROKER_PASSWORD environment variable, never from arguments',
  ].join('\n'),
  async run(argv, io) {
    const { values: v } = parseCommandArgs(NAME, argv, {
      broker: { type: 'string' }, fleet: { type: 'string' }, device: { type: 'string' }, prefix: { type: 'string' },
      pubkey: { type: 'string' }, json: { type: 'boolean' }, count: { type: 'string' },
      ca: { type: 'string' }, cert: { type: 'string' }, key: { type: 'string' }, username: { type: 'string' },
    });
    const filter = fleetFilter(v.prefix ?? DEFAULT_PREFIX, required(NAME, 'fleet', v.fleet), v.device);
    const count = positiveInt('count', v.count);
    const publicKey = v.pubkey === undefined ? undefined : await loadPublicKey(v.pubkey);
    const broker: BrokerConfig = { url: required(NAME, 'broker', v.broker), caFile: v.ca, certFile: v.cert, keyFile: v.key, username: v.username, password: process.env.EDGESEAL_BROKER_PASSWORD };
    // A unique client id: a shared one makes the broker drop the older session.
    const client = await connectOnce(broker, { clientId: `edgeseal-tail-${randomBytes(6).toString('hex')}` });
    let seen = 0;
    let forged = 0;
    let stop = () => undefined as void;
    try {
      await new Promise<void>((resolve, reject) => {
        stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        client.once('close', () => reject(new EdgesealError('BROKER_UNREACHABLE', `${NAME}: connection to ${broker.url} closed`)));
        client.on('message', (topic, payload) => {
          if (count !== undefined && seen >= count) return; // messages already buffered after the last one
          const msg = formatMessage(topic, payload, publicKey);
          if (msg.forged) forged += 1;
          // --json output is verify input, so it carries only the signed envelopes.
          if (v.json && topic.endsWith('/status')) return;
          io.out(v.json ? payload.toString('utf8') : msg.line);
          if (count !== undefined && ++seen >= count) resolve();
        });
        client.subscribe(filter, { qos: 1 }, (err) => err && reject(new EdgesealError('BROKER_REJECTED', `${NAME}: subscription to ${filter} refused: ${err.message}`, { cause: err })));
      });
    } finally {
      process.removeListener('SIGINT', stop);
      process.removeListener('SIGTERM', stop);
      client.removeAllListeners('close');
      await client.endAsync();
    }
    return forged ? EXIT.REFUSED : EXIT.OK;
  },
};
