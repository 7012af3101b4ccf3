import { expect } from 'chai';
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve, sep } from 'node:path';
import { Updater } from 'tuf-js';
import { edgeseal, TARGET_ARGS, tempDir, writeImage } from './cli-helpers.js';

// Serves a directory read-only on 127.0.0.1 (a published repository, as a plain web server would).
async function serveDir(root: string): Promise<{ url: string; server: Server; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(path);
    const file = resolve(root, `.${path}`);
    if (!file.startsWith(root + sep)) return void res.writeHead(403).end();
    readFile(file).then(
      (body) => res.writeHead(200, { 'content-length': body.length }).end(body),
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, requests };
}

describe('published repository read by tuf-js Updater over loopback HTTP', () => {
  it('refreshes through a rotated root, walks the delegation and downloads the hash-prefixed target', async () => {
    const tmp = await tempDir();
    const dir = join(tmp.path, 'work');
    const out = resolve(tmp.path, 'pub');
    const served = await serveDir(out);
    try {
      const image = await writeImage(join(tmp.path, 'app.tar'), 200_000, 0x5a);
      // tuf-js checks expiry against the real clock, so this repository is signed "now".
      for (const argv of [
        ['repo', 'init', '--dir', dir],
        ['repo', 'delegate', '--dir', dir, '--role', 'builder', '--path', 'apps/*'],
        ['repo', 'add-target', join(tmp.path, 'app.tar'), '--dir', dir, '--name', 'apps/app.tar', '--role', 'builder', ...TARGET_ARGS],
        ['repo', 'publish', '--dir', dir, '--out', out],
        ['repo', 'rotate-key', 'root', '--dir', dir],
        ['repo', 'publish', '--dir', dir, '--out', out],
      ]) {
        const r = await edgeseal(...argv);
        expect(r.code, r.err.join('\n')).to.equal(0);
      }
      const metadataDir = join(tmp.path, 'device-metadata');
      const targetDir = join(tmp.path, 'device-targets');
      await mkdir(metadataDir);
      await mkdir(targetDir);
      await copyFile(join(out, 'metadata/1.root.json'), join(metadataDir, 'root.json'));
      const updater = new Updater({ metadataDir, metadataBaseUrl: `${served.url}/metadata`, targetDir, targetBaseUrl: `${served.url}/targets` });
      await updater.refresh();
      const info = await updater.getTargetInfo('apps/app.tar');
      expect(info, 'target resolved through the builder delegation').to.not.equal(undefined);
      expect(info!.custom).to.include({ kind: 'firmware', version: '1.0.0' });
      const path = await updater.downloadTarget(info!, join(targetDir, 'app.tar'));
      expect((await readFile(path)).equals(image)).to.equal(true);
      expect(served.requests).to.include.members(['/metadata/2.root.json', '/metadata/timestamp.json', '/metadata/1.snapshot.json', '/metadata/1.targets.json', '/metadata/1.builder.json']);
      expect(served.requests.some((p) => /^\/targets\/apps\/[0-9a-f]{64}\.app\.tar$/.test(p))).to.equal(true);
      expect(JSON.parse(await readFile(join(metadataDir, 'root.json'), 'utf8'))).to.have.nested.property('signed.version', 2);
    } finally {
      await new Promise((ok) => served.server.close(ok));
      await tmp.cleanup();
    }
  });
});
