import { EdgesealError } from '../core/errors.js';
import type { Signer } from './signer.js';
import { runSync } from './subprocess.js';
import { parseTufKey, tufKeyId, type TufKey } from './tuf-key.js';

// An external signer command (a KMS CLI wrapper, a remote signing service client…). Protocol, in
// docs/signers.md: argv run without a shell; EDGESEAL_SIGNER_OP=public-key → stdout is the TUF public
// key JSON; EDGESEAL_SIGNER_OP=sign → stdin is the canonical bytes, stdout the signature in hex.
export interface CommandRef {
  readonly kind: 'command';
  readonly argv: readonly string[];
  readonly timeoutSeconds?: number;
}

export const DEFAULT_COMMAND_TIMEOUT_S = 30;

// The command gets edgeseal's environment minus its key-file passphrase (a secret it has no use for).
function env(op: 'public-key' | 'sign', keyid?: string): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...process.env, EDGESEAL_SIGNER_OP: op, ...(keyid ? { EDGESEAL_SIGNER_KEYID: keyid } : {}) };
  delete out.EDGESEAL_PASSPHRASE;
  return out;
}

const label = (ref: CommandRef): string => `signer command ${JSON.stringify(ref.argv[0] ?? '')}`;
const timeoutMs = (ref: CommandRef): number => (ref.timeoutSeconds ?? DEFAULT_COMMAND_TIMEOUT_S) * 1000;

// Asks the command for its public key (once, at registration).
export function commandPublicKey(ref: CommandRef): TufKey {
  const out = runSync(ref.argv, { env: env('public-key'), timeoutMs: timeoutMs(ref), label: label(ref) }).toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(out);
  } catch (err) {
    throw new EdgesealError('SIGNER_FAILED', `${label(ref)}: expected the TUF public key as JSON on stdout, found ${JSON.stringify(out.slice(0, 80))}`, { cause: err });
  }
  return parseTufKey(json);
}

export function commandSigner(ref: CommandRef, publicKey: TufKey): Signer {
  const keyid = tufKeyId(publicKey);
  return {
    keyid,
    publicKey,
    label: label(ref),
    sign(message) {
      const out = runSync(ref.argv, { input: message, env: env('sign', keyid), timeoutMs: timeoutMs(ref), label: label(ref) }).toString('utf8').trim();
      if (!/^([0-9a-f]{2})+$/.test(out)) throw new EdgesealError('SIGNER_FAILED', `${label(ref)}: expected the signature as lowercase hex on stdout, found ${JSON.stringify(out.slice(0, 80))}`);
      return Buffer.from(out, 'hex');
    },
  };
}
