import { createWriteStream, type WriteStream } from 'node:fs';
import { EdgesealError } from '../core/errors.js';
import { openFleetStore } from '../fleet/open-store.js';
import { EXIT, parseCommandArgs, required, type Command } from './command.js';

const NAME = 'fleet export';
const MAX_EVENTS = 10_000_000;

function isoOption(name: string, v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new EdgesealError('USAGE', `${NAME}: --${name} expected an ISO 8601 time, found ${JSON.stringify(v)}`);
  return new Date(t).toISOString();
}

async function writeLines(path: string, lines: Iterable<string>): Promise<void> {
  const out: WriteStream = createWriteStream(path, { mode: 0o644 });
  for (const l of lines) if (!out.write(`${l}\n`)) await new Promise<void>((r) => out.once('drain', () => r()));
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

// The audit trail a third party can check offline: the raw signed envelopes exactly as received, and
// the registry of device keys they verify against (`edgeseal telemetry verify --registry`).
export const fleetExportCommand: Command = {
  name: NAME,
  usage: [
    'fleet export --db PATH|URL --out EVENTS.jsonl [--registry REGISTRY.jsonl] [--fleet F] [--device D] [--since ISO] [--until ISO]',
    '',
    '  --out       verified events, one signed envelope per line, ordered by fleet, device, key, seq',
    '  --registry  device report keys (history included), one device record per line',
    '  --since/--until  received time range [since, until)',
    '  check offline: edgeseal telemetry verify --registry REGISTRY.jsonl --file EVENTS.jsonl',
  ].join('\n'),
  async run(argv, io) {
    const { values: v } = parseCommandArgs(NAME, argv, {
      db: { type: 'string' }, out: { type: 'string' }, registry: { type: 'string' }, fleet: { type: 'string' }, device: { type: 'string' }, since: { type: 'string' }, until: { type: 'string' },
    });
    const filter = { fleet: v.fleet, deviceId: v.device, since: isoOption('since', v.since), until: isoOption('until', v.until) };
    const out = required(NAME, 'out', v.out);
    const store = await openFleetStore(required(NAME, 'db', v.db));
    try {
      const events = await store.events(filter, MAX_EVENTS);
      await writeLines(out, events.map((e) => e.raw));
      io.out(`${events.length} events written to ${out}`);
      if (v.registry !== undefined) {
        const keys = (await store.devices()).filter((d) => (v.fleet === undefined || d.fleet === v.fleet) && (v.device === undefined || d.deviceId === v.device)).flatMap((d) => d.keys);
        await writeLines(v.registry, keys.map((k) => JSON.stringify({ fleet: k.fleet, deviceId: k.deviceId, hardwareId: k.hardwareId, reportPublicKey: k.publicKey, reportKeyId: k.keyId })));
        io.out(`${keys.length} device keys written to ${v.registry}`);
      }
      return EXIT.OK;
    } finally {
      await store.close();
    }
  },
};
