import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

// A throw-away PKI made with the openssl CLI for one test run (nothing committed): a private CA, a
// server certificate for 127.0.0.1 and a device client certificate under it, and a second, unrelated CA
// with a client certificate of its own (the "wrong CA" cases). Files live in `dir` for config paths.
export interface TestPki {
  readonly dir: string;
  readonly ca: Buffer;
  readonly serverCert: Buffer;
  readonly serverKey: Buffer;
  readonly clientCert: Buffer;
  readonly clientKey: Buffer;
  readonly otherCa: Buffer;
  readonly otherClientCert: Buffer;
  readonly otherClientKey: Buffer;
  readonly path: (name: 'ca' | 'client' | 'client-key' | 'other-ca') => string;
  remove(): Promise<void>;
}

const openssl = (dir: string, args: readonly string[]): Promise<unknown> => run('openssl', [...args], { cwd: dir });
const ecKey = (dir: string, out: string): Promise<unknown> => openssl(dir, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', out]);

async function selfSignedCa(dir: string, name: string, cn: string): Promise<void> {
  await ecKey(dir, `${name}.key`);
  await openssl(dir, ['req', '-x509', '-new', '-key', `${name}.key`, '-subj', `/CN=${cn}`, '-days', '2', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign', '-out', `${name}.pem`]);
}

async function issue(dir: string, ca: string, name: string, cn: string, ext: string): Promise<void> {
  await ecKey(dir, `${name}.key`);
  await openssl(dir, ['req', '-new', '-key', `${name}.key`, '-subj', `/CN=${cn}`, '-out', `${name}.csr`]);
  await writeFile(join(dir, `${name}.ext`), ext);
  await openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.pem`]);
}

export async function makeTestPki(): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), 'edgeseal-pki-'));
  await selfSignedCa(dir, 'ca', 'edgeseal test CA');
  await selfSignedCa(dir, 'other-ca', 'some other CA');
  await issue(dir, 'ca', 'server', '127.0.0.1', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  await issue(dir, 'ca', 'client', 'edgeseal test device', 'extendedKeyUsage=clientAuth\n');
  await issue(dir, 'other-ca', 'other-client', 'edgeseal test device', 'extendedKeyUsage=clientAuth\n');
  const read = (f: string): Promise<Buffer> => readFile(join(dir, f));
  const files = { 'ca': 'ca.pem', 'client': 'client.pem', 'client-key': 'client.key', 'other-ca': 'other-ca.pem' } as const;
  return {
    dir,
    ca: await read('ca.pem'),
    serverCert: await read('server.pem'),
    serverKey: await read('server.key'),
    clientCert: await read('client.pem'),
    clientKey: await read('client.key'),
    otherCa: await read('other-ca.pem'),
    otherClientCert: await read('other-client.pem'),
    otherClientKey: await read('other-client.key'),
    path: (name) => join(dir, files[name]),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
