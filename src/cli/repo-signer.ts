import { EdgesealError } from '../core/errors.js';
import { commandPublicKey, type CommandRef } from '../crypto/command-signer.js';
import { describePkcs11Key } from '../crypto/pkcs11-signer.js';
import type { SecretSource } from '../crypto/secret-source.js';
import { makeSignerRef, writeSignerRef, type SignerRef } from '../crypto/signer-ref.js';
import { EXIT, parseCommandArgs, required, type Command } from './command.js';
import { parseCount, shortId } from './repo-shared.js';

const NAME = 'repo signer';

function usage(message: string): EdgesealError {
  return new EdgesealError('USAGE', `${NAME}: ${message} (see 'edgeseal ${NAME} --help')`);
}

interface PinValues {
  'pin-env'?: string;
  'pin-file'?: string;
  'pin-credential'?: string;
}

function pinSource(v: PinValues): SecretSource {
  const given = (['pin-env', 'pin-file', 'pin-credential'] as const).filter((k) => v[k] !== undefined);
  if (given.length !== 1) throw usage(`expected exactly one of --pin-env, --pin-file, --pin-credential, found ${given.length}`);
  if (v['pin-env'] !== undefined) return { env: v['pin-env'] };
  if (v['pin-file'] !== undefined) return { file: v['pin-file'] };
  return { credential: v['pin-credential'] ?? '' };
}

export const repoSigner: Command = {
  name: NAME,
  usage: [
    `${NAME} pkcs11 --out FILE --module PATH --token LABEL (--key-label L | --key-id HEX) (--pin-env VAR | --pin-file PATH | --pin-credential NAME) [--timeout S]`,
    `${NAME} command --out FILE [--timeout S] -- ARGV…`,
    '',
    '  --out FILE            where to write the reference (no secret in it): pass it to repo init --signer ROLE=FILE,',
    '                        repo rotate-key --add-signer FILE, or repo sign/publish --signer FILE',
    '  --module PATH         PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so (driven through pkcs11-tool)',
    '  --token LABEL         token label',
    '  --key-label L | --key-id HEX   the key pair (Ed25519 or ECDSA P-256) on the token',
    '  --pin-env VAR         the user PIN is in $VAR at signing time',
    '  --pin-file PATH       … or in this file (one trailing newline ignored)',
    "  --pin-credential NAME … or in systemd's $CREDENTIALS_DIRECTORY/NAME (LoadCredential=NAME:…)",
    '  --timeout S           seconds before the signer is killed (default 30)',
    '  ARGV                  the external signer command and its arguments (protocol: docs/signers.md)',
    '',
    'The PIN is never accepted on the command line. The public key is read now and stored in FILE;',
    'every later signature is checked against it.',
  ].join('\n'),
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(
      NAME,
      argv,
      {
        out: { type: 'string' },
        module: { type: 'string' },
        token: { type: 'string' },
        'key-label': { type: 'string' },
        'key-id': { type: 'string' },
        'pin-env': { type: 'string' },
        'pin-file': { type: 'string' },
        'pin-credential': { type: 'string' },
        timeout: { type: 'string' },
      },
      true,
    );
    const [kind, ...rest] = positionals;
    const out = required(NAME, 'out', values.out);
    const timeout = values.timeout === undefined ? {} : { timeoutSeconds: parseCount(NAME, 'timeout', values.timeout, 30) };
    let ref: SignerRef;
    if (kind === 'pkcs11') {
      if (rest.length > 0) throw usage(`pkcs11: expected no further arguments, found ${rest.join(' ')}`);
      if ((values['key-label'] === undefined) === (values['key-id'] === undefined)) throw usage('pkcs11: expected exactly one of --key-label, --key-id');
      const d = describePkcs11Key({
        kind: 'pkcs11',
        module: required(NAME, 'module', values.module),
        token: required(NAME, 'token', values.token),
        ...(values['key-label'] !== undefined ? { keyLabel: values['key-label'] } : {}),
        ...(values['key-id'] !== undefined ? { keyId: values['key-id'].toLowerCase() } : {}),
        pin: pinSource(values),
        ...timeout,
      });
      ref = makeSignerRef(d.ref, d.publicKey);
      io.out(`token key access: ${d.access || 'unknown'}`);
      if (!/\bsensitive\b/.test(d.access) || !/never extractable/.test(d.access)) io.err(`warning: the private key is not marked sensitive and never extractable (${d.access})`);
    } else if (kind === 'command') {
      if (rest.length === 0) throw usage('command: expected the signer command after --');
      const cmd: CommandRef = { kind: 'command', argv: rest, ...timeout };
      ref = makeSignerRef(cmd, commandPublicKey(cmd));
    } else {
      throw usage(`expected pkcs11 or command, found ${JSON.stringify(kind ?? '')}`);
    }
    await writeSignerRef(out, ref);
    io.out(`${ref.publicKey.scheme} key ${shortId(ref.keyid)} (${ref.keyid}) → ${out}`);
    return EXIT.OK;
  },
};
