import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EdgesealError } from '../core/errors.js';
import { readSecret, type SecretSource } from './secret-source.js';
import type { Signer } from './signer.js';
import { runSync } from './subprocess.js';
import { tufKeyFromSpki, tufKeyId, type TufKey } from './tuf-key.js';

// A key held in a PKCS#11 token, driven through OpenSC's pkcs11-tool (no native addon, so nothing to
// compile on the publisher's machine). The PIN reaches pkcs11-tool as `--pin env:VAR` in the child's
// environment only, never in any argv.
export interface Pkcs11Ref {
  readonly kind: 'pkcs11';
  readonly module: string; // e.g. /usr/lib/softhsm/libsofthsm2.so
  readonly token: string; // token label
  readonly keyId: string; // CKA_ID in hex (a --key-label is resolved to it at registration)
  readonly keyLabel?: string;
  readonly pin: SecretSource;
  readonly timeoutSeconds?: number;
}

export const PKCS11_TOOL = 'pkcs11-tool';
const PIN_VAR = 'EDGESEAL_PKCS11_PIN';
const DEFAULT_TIMEOUT_S = 30;
// pkcs11-tool 0.23 reads 1025 bytes and signs less than that in one part (C_Sign); more goes through
// C_SignUpdate, which CKM_EDDSA does not support (SoftHSM 2.6.1: single-part only).
export const EDDSA_MAX_MESSAGE = 1024;

type Connection = Pick<Pkcs11Ref, 'module' | 'token' | 'timeoutSeconds'>;

const label = (ref: Pick<Pkcs11Ref, 'token'> & { keyId?: string; keyLabel?: string }): string => `pkcs11 token ${ref.token} key ${ref.keyLabel ?? ref.keyId ?? '?'}`;

function run(conn: Connection, what: string, args: string[], input?: Uint8Array, pin?: string): Buffer {
  const env = pin === undefined ? process.env : { ...process.env, [PIN_VAR]: pin };
  const argv = [PKCS11_TOOL, '--module', conn.module, '--token-label', conn.token, ...(pin === undefined ? [] : ['--pin', `env:${PIN_VAR}`]), ...args];
  return runSync(argv, { ...(input ? { input } : {}), env, timeoutMs: (conn.timeoutSeconds ?? DEFAULT_TIMEOUT_S) * 1000, label: what });
}

// pkcs11-tool cannot use node's stdio pipes (sockets) as files: input and output go through a private
// temp dir (0700; the input is only the bytes being signed, never a secret).
function runWithFiles(conn: Connection, what: string, args: string[], input?: Uint8Array, pin?: string): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'edgeseal-p11-'));
  try {
    const [inPath, outPath] = [join(dir, 'in'), join(dir, 'out')];
    if (input) writeFileSync(inPath, input, { mode: 0o600 });
    run(conn, what, [...args, ...(input ? ['-i', inPath] : []), '-o', outPath], undefined, pin);
    return readFileSync(outPath);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface TokenObject {
  readonly kind: 'private' | 'public';
  readonly label?: string;
  readonly id?: string;
  readonly access?: string;
}

// Parses `pkcs11-tool --list-objects` text into objects (label, ID, Access line).
export function parseObjectList(text: string): TokenObject[] {
  const out: TokenObject[] = [];
  let cur: { kind: 'private' | 'public'; label?: string; id?: string; access?: string } | undefined;
  for (const line of text.split('\n')) {
    const head = /^(Private|Public) Key Object/.exec(line);
    if (head) {
      cur = { kind: head[1] === 'Private' ? 'private' : 'public' };
      out.push(cur);
      continue;
    }
    const field = /^\s+(label|ID|Access):\s*(.*)$/.exec(line);
    if (cur && field) {
      if (field[1] === 'label') cur.label = field[2].trim();
      else if (field[1] === 'ID') cur.id = field[2].trim().toLowerCase();
      else cur.access = field[2].trim();
    } else if (!/^\s/.test(line)) {
      cur = undefined; // another object type (certificate, data…)
    }
  }
  return out;
}

// The token's key objects; with a PIN the private keys are listed too.
export function listKeys(conn: Connection & Pick<Pkcs11Ref, 'pin'>, withPin: boolean): TokenObject[] {
  const what = `pkcs11 token ${conn.token}`;
  return parseObjectList(run(conn, what, ['--list-objects'], undefined, withPin ? readSecret(conn.pin, what) : undefined).toString('utf8'));
}

// Finds the key pair by label or id and returns the reference (id resolved) and its public key.
export function describePkcs11Key(ref: Omit<Pkcs11Ref, 'keyId'> & { keyId?: string }): { ref: Pkcs11Ref; publicKey: TufKey; access: string } {
  const objects = listKeys(ref, true);
  const match = (o: TokenObject): boolean => (ref.keyId !== undefined ? o.id === ref.keyId.toLowerCase() : o.label === ref.keyLabel);
  const priv = objects.filter((o) => o.kind === 'private' && match(o));
  const want = ref.keyId !== undefined ? `id ${ref.keyId}` : `label ${ref.keyLabel ?? '(none)'}`;
  if (priv.length !== 1 || !priv[0].id) {
    throw new EdgesealError('KEY_INVALID', `pkcs11 token ${ref.token}: expected exactly one private key with ${want}, found ${priv.length}`);
  }
  const resolved: Pkcs11Ref = { ...ref, keyId: priv[0].id };
  const der = runWithFiles(resolved, label(resolved), ['--read-object', '--type', 'pubkey', '--id', resolved.keyId]);
  return { ref: resolved, publicKey: tufKeyFromSpki(der), access: priv[0].access ?? '' };
}

export function pkcs11Signer(ref: Pkcs11Ref, publicKey: TufKey): Signer {
  const what = label(ref);
  return {
    keyid: tufKeyId(publicKey),
    publicKey,
    label: what,
    sign(message) {
      const pin = readSecret(ref.pin, what);
      const sign = ['--sign', '--id', ref.keyId];
      if (publicKey.keytype === 'ed25519') {
        if (message.length > EDDSA_MAX_MESSAGE) {
          throw new EdgesealError(
            'SIGNER_FAILED',
            `${what}: expected at most ${EDDSA_MAX_MESSAGE} bytes to sign with CKM_EDDSA through pkcs11-tool (single-part only), found ${message.length}; use an ECDSA P-256 key or an external signer for this role`,
          );
        }
        return runWithFiles(ref, what, [...sign, '--mechanism', 'EDDSA'], message, pin);
      }
      // CKM_ECDSA signs a digest: hash here (SoftHSM has no CKM_ECDSA_SHA256); openssl format = DER (r, s).
      const digest = createHash('sha256').update(message).digest();
      return runWithFiles(ref, what, [...sign, '--mechanism', 'ECDSA', '--signature-format', 'openssl'], digest, pin);
    },
  };
}
