import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { EdgesealError } from '../core/errors.js';
import { parseEnrollmentLines } from '../fleet/enrollment.js';
import { EventLineVerifier, type KeyResolver } from '../telemetry/fleet-verify.js';
import { loadPublicKey } from '../telemetry/public-key.js';
import { EXIT, parseCommandArgs, required, type Command } from './command.js';

const NAME = 'telemetry verify';

async function openInput(file: string | undefined): Promise<Readable> {
  if (file === undefined) return process.stdin;
  const stream = createReadStream(file);
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', (err) => reject(new EdgesealError('USAGE', `${NAME}: cannot read --file ${file}: ${err.message}`, { cause: err })));
  });
  return stream;
}

// --registry: device records as `fleet enroll` reads them; the key is found by fleet, device and keyid.
async function loadRegistry(path: string): Promise<KeyResolver> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new EdgesealError('USAGE', `${NAME}: cannot read --registry ${path}: ${(err as Error).message}`, { cause: err });
  }
  const keys = new Map(parseEnrollmentLines(text, undefined, path).map((e) => [`${e.fleet}/${e.deviceId}/${e.keyId}`, Uint8Array.from(Buffer.from(e.publicKey, 'hex'))]));
  return (env) => keys.get(`${env.event.fleet}/${env.event.deviceId}/${env.sig.keyid}`);
}

// Fleet-side check of signed device events (JSONL, one envelope per line, as `telemetry tail --json` prints).
export const telemetryVerifyCommand: Command = {
  name: NAME,
  usage: [
    'telemetry verify --pubkey FILE|HEX | --registry REGISTRY.jsonl [--file EVENTS.jsonl] [--quiet]',
    '',
    '  --pubkey    the device report public key: 64 hex characters, or a file holding hex, 32 raw bytes or an Ed25519 PEM',
    '  --registry  many devices: JSON lines of device records (`edgeseal fleet export --registry`), keys by fleet, device and keyid',
    '  --file    JSON lines of signed envelopes {"event":…,"sig":…}; default: standard input',
    '  --quiet   print only rejected lines and the summary',
  ].join('\n'),
  async run(argv, io) {
    const { values } = parseCommandArgs(NAME, argv, { pubkey: { type: 'string' }, registry: { type: 'string' }, file: { type: 'string' }, quiet: { type: 'boolean' } });
    if ((values.pubkey === undefined) === (values.registry === undefined)) throw new EdgesealError('USAGE', `${NAME}: expected exactly one of --pubkey or --registry (see 'edgeseal ${NAME} --help')`);
    const verifier = new EventLineVerifier(values.registry !== undefined ? await loadRegistry(values.registry) : await loadPublicKey(required(NAME, 'pubkey', values.pubkey)));
    const lines = createInterface({ input: await openInput(values.file), crlfDelay: Infinity });
    for await (const text of lines) {
      const r = verifier.add(text);
      if (!r) continue;
      if (!r.ok) io.out(`line ${r.line}: REJECTED [${r.code}] ${r.message}`);
      else if (!values.quiet) io.out(`line ${r.line}: ok ${r.deviceId} #${r.seq} ${r.type}`);
    }
    const s = verifier.summary();
    for (const [device, missing] of Object.entries(s.gaps)) io.out(`${device}: sequence gaps (no drop record from the device: lost or not captured): ${missing.join(',')}`);
    for (const [device, missing] of Object.entries(s.dropped)) io.out(`${device}: dropped by the device (signed outbox-drop): ${missing.join(',')}`);
    io.out(`${s.verified} verified, ${s.rejected} rejected`);
    if (s.verified + s.rejected === 0) {
      io.err(`${NAME}: no events in input`);
      return EXIT.REFUSED;
    }
    return s.rejected ? EXIT.REFUSED : EXIT.OK;
  },
};
