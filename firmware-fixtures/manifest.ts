import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FixtureCase } from './generate.js';

// Reading the committed fixtures from tests: manifest.json and the metadata files of one case,
// shaped as the offline verifier's MetadataFiles (contract in src/tuf/offline/types.ts).

export const FIXTURES_OUT = fileURLToPath(new URL('../../firmware-fixtures/out', import.meta.url));

export interface FixtureManifest {
  readonly hardwareIds: readonly string[];
  readonly cases: readonly FixtureCase[];
}

export function readManifest(out = FIXTURES_OUT): FixtureManifest {
  return JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as FixtureManifest;
}

export interface MetadataDirFiles {
  initialRoot: Uint8Array;
  rootChain: Uint8Array[];
  timestamp: Uint8Array;
  snapshot: Uint8Array;
  targets: Uint8Array;
  delegated: Record<string, Uint8Array>;
}

// Follows a published (consistent-snapshot) metadata dir: 1.root.json is the initial root, 2..N the
// chain, timestamp.json names the snapshot version, the snapshot names every targets role version.
export function readMetadataDir(dir: string): MetadataDirFiles {
  const read = (f: string): Uint8Array => readFileSync(join(dir, f));
  const rootChain: Uint8Array[] = [];
  for (let v = 2; existsSync(join(dir, `${v}.root.json`)); v++) rootChain.push(read(`${v}.root.json`));
  const timestamp = read('timestamp.json');
  const ts = JSON.parse(Buffer.from(timestamp).toString('utf8')) as { signed: { meta: Record<string, { version: number }> } };
  const snapshot = read(`${ts.signed.meta['snapshot.json'].version}.snapshot.json`);
  const meta = (JSON.parse(Buffer.from(snapshot).toString('utf8')) as { signed: { meta: Record<string, { version: number }> } }).signed.meta;
  const delegated: Record<string, Uint8Array> = {};
  for (const [file, m] of Object.entries(meta)) {
    if (file !== 'targets.json') delegated[file.replace(/\.json$/, '')] = read(`${m.version}.${file}`);
  }
  return { initialRoot: read('1.root.json'), rootChain, timestamp, snapshot, targets: read(`${meta['targets.json'].version}.targets.json`), delegated };
}
