import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { EdgesealError } from '../core/errors.js';
import { stagePcrPolicyTarget } from '../pcrpolicy/publish.js';
import { defaultPcrPolicyTarget } from '../pcrpolicy/targets.js';
import { loadWorkdir, saveWorkdir } from '../repo/workdir.js';
import { writeFileAtomic } from '../store/atomic-write.js';
import { authorityName } from '../tpm/authorize.js';
import { encodePcrPolicy, pointFromKey, signPcrPolicy } from '../trust/pcr-policy.js';
import { parsePcrSelection } from '../trust/pcr-selection.js';
import { EXIT, parseCommandArgs, required, type CliIo, type Command } from './command.js';

const NAME = 'repo pcr-policy';
const HEX64 = /^[0-9a-fA-F]{64}$/;

function usage(message: string): EdgesealError {
  return new EdgesealError('USAGE', `${NAME}: ${message} (see 'edgeseal ${NAME} --help')`);
}

async function readKey(path: string): Promise<KeyObject> {
  try {
    return createPrivateKey(await readFile(path, 'utf8'));
  } catch (err) {
    throw new EdgesealError('KEY_INVALID', `${NAME}: expected a PEM private key in ${path}, could not read one (${(err as Error).message})`, { cause: err });
  }
}

// The measured values file: {"0": "<64 hex>", "2": …}, one entry per PCR of the selection.
async function readValues(path: string, pcrs: readonly number[]): Promise<Map<number, Uint8Array>> {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw usage(`--values: expected a JSON object of PCR → sha256 hex in ${path} (${(err as Error).message})`);
  }
  const values = new Map<number, Uint8Array>();
  for (const p of pcrs) {
    const v = o[String(p)];
    if (typeof v !== 'string' || !HEX64.test(v)) throw usage(`--values: expected "${p}": 64 hex digits, found ${JSON.stringify(v)}`);
    values.set(p, new Uint8Array(Buffer.from(v, 'hex')));
  }
  return values;
}

async function keygen(out: string, io: CliIo): Promise<void> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  await writeFileAtomic(out, privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), 0o600);
  await writeFileAtomic(`${out}.pub`, createPublicKey(privateKey).export({ format: 'pem', type: 'spki' }).toString());
  io.out(`wrote PCR-policy authority key ${out} (ECC P-256; keep it offline, like a root key) and ${out}.pub (for provision --pcr-authority)`);
  io.out(`  TPM Name ${Buffer.from(authorityName(pointFromKey(privateKey))).toString('hex')}`);
}

async function addTarget(dir: string, t: Parameters<typeof stagePcrPolicyTarget>[2]): Promise<string[]> {
  const repo = await loadWorkdir(dir, { keys: false });
  const { sha256 } = await stagePcrPolicyTarget(dir, repo, t);
  await saveWorkdir(dir, repo);
  return [`added ${t.name} to ${t.role}: ${t.bytes.length} bytes, sha256 ${sha256}, PCR policy generation ${t.generation}`, `unsigned changes: ${repo.pending().join(', ')} (edgeseal repo publish signs them)`];
}

export const repoPcrPolicy: Command = {
  name: NAME,
  usage: [
    `${NAME} keygen --out KEY.pem            (also writes KEY.pem.pub for provision --pcr-authority)`,
    `${NAME} sign --key KEY.pem --generation N --values VALUES.json --out POLICY.json [--pcrs sha256:0,2,4,7] [--dir WORKDIR [--name PATH] [--role ROLE]]`,
    '',
    '  keygen          create the fleet\'s PCR-policy authority key (ECC P-256, PEM, mode 0600)',
    '  sign            approve the PCR values one boot chain produces, as generation N (1..63)',
    '  --values FILE   the measured values: {"0": "<sha256 hex>", "2": …} for every PCR of --pcrs',
    '  --generation N  the revocation bit: once a newer chain commits on a device, N is revoked there',
    '  --dir WORKDIR   also add the signed policy to the publisher workdir as a TUF target (edgeseal repo',
    '                  publish signs it); devices cache it with the metadata set and unseal with it',
    '  --name PATH     its target path (default pcr-policies/N.json; e.g. pcr-policies/board-b-N.json per board)',
    '  --role ROLE     the targets role to list it in (default targets; a delegated role must cover PATH)',
    '',
    'A release whose boot chain measures differently names the generation it needs in its target\'s custom',
    'field pcrPolicyGeneration; devices refuse to arm it until they hold that signed policy.',
    '',
    'Anchors provisioned with this authority unseal under any policy it signed whose PCR values match',
    '(TPM2_PolicyAuthorize); see docs/signed-pcr-policies.md.',
  ].join('\n'),

  async run(argv: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseCommandArgs(
      NAME,
      argv,
      { out: { type: 'string' }, key: { type: 'string' }, generation: { type: 'string' }, values: { type: 'string' }, pcrs: { type: 'string' }, dir: { type: 'string' }, name: { type: 'string' }, role: { type: 'string' } },
      true,
    );
    const action = positionals[0];
    if (positionals.length !== 1 || (action !== 'keygen' && action !== 'sign')) throw usage(`expected one action, keygen or sign, found ${JSON.stringify(positionals)}`);
    const out = required(NAME, 'out', values.out);
    if (action === 'keygen') {
      await keygen(out, io);
      return EXIT.OK;
    }
    const key = await readKey(required(NAME, 'key', values.key));
    const generation = Number(required(NAME, 'generation', values.generation));
    const pcrs = parsePcrSelection(values.pcrs ?? 'sha256:0,2,4,7');
    if (values.dir === undefined && (values.name !== undefined || values.role !== undefined)) throw usage('--name and --role: expected --dir WORKDIR with them, found no --dir');
    const doc = signPcrPolicy({ generation, pcrs, values: await readValues(required(NAME, 'values', values.values), pcrs.pcrs) }, key);
    const text = encodePcrPolicy(doc);
    // the target first: a refused one (name taken by other bytes) leaves no new --out file behind either
    const added = values.dir === undefined ? [] : await addTarget(values.dir, { name: values.name ?? defaultPcrPolicyTarget(generation), role: values.role ?? 'targets', generation, bytes: new TextEncoder().encode(text) });
    await writeFileAtomic(out, text);
    io.out(`signed PCR policy generation ${generation} for ${values.pcrs ?? 'sha256:0,2,4,7'}: ${out}`);
    io.out(`  approved policy ${Buffer.from(doc.approvedPolicy).toString('hex')}`);
    added.forEach((l) => io.out(l));
    return EXIT.OK;
  },
};
