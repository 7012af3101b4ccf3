import { createPrivateKey, createPublicKey, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';

// A stand-in external signer command (docs/signers.md protocol) around a PKCS#8 PEM private key:
//   node external-signer.js KEY.pem [ok|fail|hang|garbage|wrong|no-secrets]
// EDGESEAL_SIGNER_OP=public-key prints the TUF key JSON; =sign reads stdin and prints the hex signature.
const [keyPath, mode = 'ok'] = process.argv.slice(2);
const key = createPrivateKey(readFileSync(keyPath ?? '', 'utf8'));
const pub = createPublicKey(key);
const ed = key.asymmetricKeyType === 'ed25519';

if (mode === 'no-secrets' && process.env.EDGESEAL_PASSPHRASE !== undefined) {
  process.stderr.write('received EDGESEAL_PASSPHRASE\n');
  process.exit(5);
}
if (mode === 'fail') {
  process.stderr.write('kms: access denied\n');
  process.exit(4);
}
if (mode === 'hang') setInterval(() => undefined, 1000);
else if (process.env.EDGESEAL_SIGNER_OP === 'public-key') {
  const tufKey = ed
    ? { keytype: 'ed25519', scheme: 'ed25519', keyval: { public: pub.export({ format: 'der', type: 'spki' }).subarray(-32).toString('hex') } }
    : { keytype: 'ecdsa', scheme: 'ecdsa-sha2-nistp256', keyval: { public: pub.export({ format: 'pem', type: 'spki' }).toString() } };
  process.stdout.write(`${JSON.stringify(tufKey)}\n`);
} else {
  const input = readFileSync(0);
  const sig = ed ? sign(null, input, key) : sign('sha256', input, { key, dsaEncoding: 'der' });
  process.stdout.write(mode === 'garbage' ? 'zz\n' : `${(mode === 'wrong' ? Buffer.alloc(sig.length, 1) : sig).toString('hex')}\n`);
}
