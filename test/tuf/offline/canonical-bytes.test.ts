import { canonicalize } from '@tufjs/canonical-json';
import { expect } from 'chai';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES_OUT } from '../../../firmware-fixtures/manifest.js';
import { parseMetadata, type RoleKind } from '../../../src/tuf/offline/parse.js';
import { expectCode } from '../../helpers/expect-code.js';
import { modelsFromJSON, plain } from '../../helpers/tuf-models.js';
import { addImage, customFor, imageOf, newRepo, publishedFiles, T0 } from '../../helpers/tuf-repo.js';

// The offline verifier checks signatures over the canonical JSON of each file's `signed` object as
// parsed, once per file, into its own model. Both must give exactly what @tufjs/models gives
// (Metadata.fromJSON, then canonicalize(signed.toJSON()), which tuf-js signs and verifies over): same
// bytes, equal models, for every metadata file of every fixture repository.

function metadataFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return metadataFiles(path);
    return /\.json$/.test(name) && /\/metadata$/.test(dir) ? [path] : [];
  });
}

const kindOf = (file: string): RoleKind => {
  const role = file.replace(/^.*\//, '').replace(/^\d+\./, '').replace(/\.json$/, '');
  return role === 'root' || role === 'timestamp' || role === 'snapshot' ? role : 'targets';
};

// Returns false for a file the models refuse (the fixtures hold deliberately malformed ones): ours must refuse it too.
function expectSameAsModels(kind: RoleKind, bytes: Uint8Array, label: string): boolean {
  let reference: ReturnType<typeof modelsFromJSON>;
  try {
    reference = modelsFromJSON(kind, JSON.parse(Buffer.from(bytes).toString('utf8')));
  } catch {
    expectCode(() => parseMetadata(kind, bytes, 16 * 1024 * 1024, label), 'MALFORMED_METADATA');
    return false;
  }
  const { md, signedBytes } = parseMetadata(kind, bytes, 16 * 1024 * 1024, label);
  expect(signedBytes.equals(Buffer.from(canonicalize(reference.signed.toJSON()))), `${label}: canonical bytes`).to.equal(true);
  expect(plain(md), `${label}: model`).to.deep.equal(plain(reference));
  return true;
}

describe('tuf/offline canonical bytes (signatures are checked over what @tufjs/models would produce)', () => {
  it('every metadata file of the fixture repositories: root, timestamp, snapshot, targets and delegated targets', () => {
    const files = metadataFiles(join(FIXTURES_OUT, 'repos'));
    const kinds = new Set<string>();
    let delegated = 0;
    let compared = 0;
    for (const file of files) {
      const kind = kindOf(file);
      if (!expectSameAsModels(kind, readFileSync(file), file.slice(FIXTURES_OUT.length))) continue;
      compared++;
      kinds.add(kind);
      if (kind === 'targets' && !/\.targets\.json$/.test(file)) delegated++;
    }
    expect(compared).to.be.above(50);
    expect([...kinds].sort()).to.deep.equal(['root', 'snapshot', 'targets', 'timestamp']);
    expect(delegated, 'delegated targets roles compared').to.be.above(0);
  });

  it('targets whose names and custom fields need escaping, or name Object.prototype members', () => {
    const { repo } = newRepo();
    const names = ['firmware/a "quoted" name.bin', 'apps/ünïcödé/☃.bin', 'apps/__proto__', 'apps/constructor'];
    for (const name of names) addImage(repo, name, imageOf(name, 64), customFor({ note: 'tab\there "q" \\ \u0001', nested: { z: 1, a: [true, null, 'x'] } }));
    repo.sign(T0);
    const files = publishedFiles(repo);
    expectSameAsModels('targets', files.targets, 'targets');
    expectSameAsModels('root', files.initialRoot, 'root');
    const { md } = parseMetadata('targets', files.targets, 16 * 1024 * 1024, 'targets');
    expect(Object.keys(md.signed.targets).sort()).to.deep.equal([...names].sort());
    expect(Object.getPrototypeOf(md.signed.targets)).to.equal(Object.prototype);
  });
});
