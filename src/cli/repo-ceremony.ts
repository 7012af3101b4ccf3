import { EdgesealError } from '../core/errors.js';
import { readKeyFile } from '../crypto/key-store.js';
import { fileSigner, type Signer } from '../crypto/signer.js';
import { isSigningKey } from '../crypto/ed25519.js';
import { openSigner, readSignerRef } from '../crypto/signer-ref.js';
import { exportBundle, importBundle, readBundle, signBundle, writeBundle } from '../repo/ceremony-bundle.js';
import { loadWorkdir, saveWorkdir } from '../repo/workdir.js';
import { EXIT, parseCommandArgs, required, type CliIo } from './command.js';
import type { Command } from './command.js';
import { actor, DIR_USAGE, NOW_USAGE, parseNow, passphrase, shortId } from './repo-shared.js';
import { KEY_USAGE, openForSigning } from './repo-sign.js';

const NAME = 'repo ceremony';

function usage(message: string): EdgesealError {
  return new EdgesealError('USAGE', `${NAME}: ${message} (see 'edgeseal ${NAME} --help')`);
}

// Signers from --key files and --signer references only (a bundle is signed without any workdir).
async function explicitSigners(keyFiles: readonly string[], signerFiles: readonly string[]): Promise<Signer[]> {
  const pass = passphrase(false);
  const out: Signer[] = [];
  for (const f of keyFiles) {
    const key = await readKeyFile(f, pass);
    if (!isSigningKey(key)) throw usage(`--key ${f}: expected a private key file, found a public key`);
    out.push(fileSigner(key, `key file ${f}`));
  }
  for (const f of signerFiles) out.push(openSigner(await readSignerRef(f)));
  return out;
}

const OPTIONS = {
  dir: { type: 'string' },
  bundle: { type: 'string' },
  out: { type: 'string' },
  key: { type: 'string', multiple: true },
  signer: { type: 'string', multiple: true },
  as: { type: 'string' },
  now: { type: 'string' },
} as const;

export const repoCeremony: Command = {
  name: NAME,
  usage: [
    `${NAME} prepare ROLE --dir WORKDIR [--as NAME] [--now ISO]`,
    `${NAME} sign ROLE (--dir WORKDIR | --bundle FILE) [--key FILE]… [--signer FILE]… [--as NAME] [--now ISO]`,
    `${NAME} export --dir WORKDIR --out FILE [--now ISO]`,
    `${NAME} import FILE --dir WORKDIR [--as NAME] [--now ISO]`,
    '',
    '  prepare   freeze the next version of ROLE (root, targets or a delegated role): its bytes, version and expiry',
    '  sign      add signatures by the keys given (and, with --dir, the keys in WORKDIR) to the pending ROLE',
    '  export    write every pending version, the keys and thresholds it needs and the audit log to FILE',
    '  import    merge a signed bundle: same bytes required, every signature re-checked, audit log appended',
    `  ${DIR_USAGE}`,
    '  --bundle FILE      sign a bundle in place, on a machine that has only the key (no workdir)',
    `  ${KEY_USAGE}`,
    '  --as NAME          who you are, for the audit log (default user@host)',
    `  ${NOW_USAGE}`,
    '',
    "Then 'edgeseal repo status' shows who signed and who is missing; 'edgeseal repo publish' publishes once",
    'every threshold is met (root: the new and the previous root). Step by step: docs/ceremony.md.',
  ].join('\n'),
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(NAME, argv, OPTIONS, true);
    const [action, arg, ...rest] = positionals;
    if (rest.length > 0) throw usage(`expected at most one argument after ${action ?? 'the action'}, found ${rest.join(' ')}`);
    const now = parseNow(NAME, values.now);
    const by = actor(values.as);
    switch (action) {
      case 'prepare':
        return prepare(required(NAME, 'dir', values.dir), role(arg), now, by, io);
      case 'sign':
        return values.bundle !== undefined
          ? signInBundle(values.bundle, role(arg), await explicitSigners(values.key ?? [], values.signer ?? []), now, by, io)
          : signInWorkdir(required(NAME, 'dir', values.dir), role(arg), values, now, by, io);
      case 'export': {
        const repo = await loadWorkdir(required(NAME, 'dir', values.dir), { keys: false });
        const out = required(NAME, 'out', values.out);
        const bundle = exportBundle(repo, now);
        await writeBundle(out, bundle);
        io.out(`exported ${Object.keys(bundle.roles).map((r) => `${r} v${bundle.roles[r].pending.signed.version}`).join(', ')} to ${out}`);
        return EXIT.OK;
      }
      case 'import': {
        if (arg === undefined) throw usage('import: expected the bundle FILE');
        const dir = required(NAME, 'dir', values.dir);
        const repo = await loadWorkdir(dir, { keys: false });
        const added = importBundle(repo, await readBundle(arg), { at: now, by });
        await saveWorkdir(dir, repo);
        for (const [r, ids] of Object.entries(added)) io.out(`${r}: ${ids.length} new signature(s)${ids.length ? `: ${ids.map(shortId).join(', ')}` : ''}`);
        return EXIT.OK;
      }
      default:
        throw usage(`expected prepare, sign, export or import, found ${JSON.stringify(action ?? '')}`);
    }
  },
};

function role(arg: string | undefined): string {
  if (arg === undefined) throw usage('expected a ROLE');
  return arg;
}

async function prepare(dir: string, r: string, now: Date, by: string, io: CliIo): Promise<number> {
  const repo = await loadWorkdir(dir, { keys: false });
  const p = repo.prepare(r, now, by);
  await saveWorkdir(dir, repo);
  io.out(`prepared ${r} v${p.signed.version} (expires ${p.signed.expires}); needs ${repo.requirements(r).reqs.map((q) => `${q.threshold} of ${q.keyids.length} ${q.name} keys`).join(' and ')}`);
  return EXIT.OK;
}

async function signInWorkdir(dir: string, r: string, values: { key?: string[]; signer?: string[] }, now: Date, by: string, io: CliIo): Promise<number> {
  const repo = await openForSigning(dir, values.key, values.signer);
  const ids = repo.signPendingWithKeyring(r, now, by);
  if (ids.length === 0) throw usage(`sign ${r}: expected a key this machine holds among those still missing, found none`);
  await saveWorkdir(dir, repo);
  io.out(`signed ${r} v${repo.pendingVersion(r)?.signed.version ?? '?'} with ${ids.map(shortId).join(', ')}`);
  return EXIT.OK;
}

async function signInBundle(path: string, r: string, signers: Signer[], now: Date, by: string, io: CliIo): Promise<number> {
  const bundle = await readBundle(path);
  const ids = signBundle(bundle, r, signers, { at: now, by });
  await writeBundle(path, bundle);
  io.out(`signed ${r} v${bundle.roles[r].pending.signed.version} in ${path} with ${ids.map(shortId).join(', ')}`);
  return EXIT.OK;
}
