import { expect } from 'chai';
import { EdgesealError } from '../../../src/core/errors.js';
import { metadataFromJSON, type RoleKind } from '../../../src/tuf/offline/from-json.js';
import { mutateJson, Rng } from '../../fuzz/mutator.js';
import { modelsAsOffline, modelsFromJSON, plain } from '../../helpers/tuf-models.js';
import { addImage, customFor, imageOf, newRepo, publishedFiles, T0, testKey } from '../../helpers/tuf-repo.js';

// Our metadata parser against @tufjs/models' Metadata.fromJSON (what it replaces on the offline path):
// on what the publisher writes and on malformed documents, it refuses everything the models refuse,
// refuses more only where the TUF spec and python-tuf do (STRICTER below, each case with its reason),
// and when both accept, the two models hold the same data.

type Doc = Record<string, unknown>;

function documents(): Record<'root' | 'timestamp' | 'snapshot' | 'targets' | 'builder', Doc> {
  const { repo } = newRepo();
  addImage(repo, 'firmware/board-a/fw.bin', imageOf('fw', 64), customFor({ note: 'x' }));
  repo.delegate({ name: 'builder', paths: ['apps/*', 'apps/*/*.bin'], keys: [testKey('builder')], terminating: true });
  addImage(repo, 'apps/app.bin', imageOf('app', 32), customFor({ kind: 'app' }), 'builder');
  repo.sign(T0);
  const files = publishedFiles(repo);
  const doc = (bytes: Uint8Array): Doc => JSON.parse(Buffer.from(bytes).toString('utf8')) as Doc;
  return { root: doc(files.initialRoot), timestamp: doc(files.timestamp), snapshot: doc(files.snapshot), targets: doc(files.targets), builder: doc(files.delegated.builder) };
}

const kindOf = (name: string): RoleKind => (name === 'builder' ? 'targets' : (name as RoleKind));

type Outcome = { ok: true; model: unknown } | { ok: false; message: string };

function ours(kind: RoleKind, json: unknown): Outcome {
  try {
    if (typeof json !== 'object' || json === null || Array.isArray(json)) return { ok: false, message: 'not an object' }; // parse.ts refuses these first
    return { ok: true, model: plain(metadataFromJSON(kind, json as Record<string, unknown>)) };
  } catch (err) {
    expect(err, String(err)).to.be.instanceOf(EdgesealError);
    expect((err as EdgesealError).code).to.equal('MALFORMED_METADATA');
    return { ok: false, message: (err as Error).message };
  }
}

function models(kind: RoleKind, json: unknown): Outcome {
  try {
    return { ok: true, model: plain(modelsFromJSON(kind, json)) };
  } catch (err) {
    return { ok: false, message: String(err) };
  }
}

// Where we refuse what @tufjs/models accepts, and why (our message says which rule).
const STRICTER: [RegExp, string][] = [
  [/expected an integer from/, 'versions, lengths, thresholds and bit lengths are integers (spec: INT); the models take any number, 1.5 or 0 as a version'],
  [/expected a 1\.x or 1\.x\.y version/, 'spec_version digits only, as python-tuf (the models take "1..0", "1.0x1", and "" as the default)'],
  [/expected exactly the roles/, 'root lists the four top-level roles and no others, as python-tuf'],
  [/expected exactly one of paths and path_hash_prefixes/, 'a delegated role has one of the two (spec §4.5, python-tuf); the models accept neither'],
  [/expected exactly one of roles and succinct_roles/, 'TAP 15 and python-tuf; the models accept both (roles win) or neither'],
  [/expected an object(?: of strings)?, found (?:none|an array)/, 'required fields the models default when absent (root keys/roles, timestamp and snapshot meta, targets), and maps the models also take as arrays'],
  [/succinct_roles: expected an object/, 'the models silently ignore a succinct_roles that is not an object'],
];

function expectAgreement(kind: RoleKind, json: unknown, label: string): 'both' | 'neither' | 'stricter' {
  const a = ours(kind, json);
  const b = models(kind, json);
  if (!b.ok) {
    expect(a.ok, `${label}: the models refuse (${b.message}), so must we`).to.equal(false);
    return 'neither';
  }
  if (a.ok) {
    expect(a.model, `${label}: the same model`).to.deep.equal(b.model);
    return 'both';
  }
  expect(
    STRICTER.some(([re]) => re.test(a.message)),
    `${label}: we refuse what the models accept, by no rule listed in STRICTER: ${a.message}`,
  ).to.equal(true);
  return 'stricter';
}

type Edit = (doc: Record<string, unknown>) => void;

// The containers a '/'-separated path names in a document ('*': every member).
function at(doc: unknown, path: string[]): Record<string, unknown>[] {
  let level = [doc as Record<string, unknown>];
  for (const part of path) level = level.flatMap((c) => (part === '*' ? Object.values(c) : [c[part]]) as Record<string, unknown>[]);
  return level;
}

function editAt(path: string, change: (container: Record<string, unknown>, key: string) => void): Edit {
  const parts = path.split('/');
  return (doc) => at(doc, parts.slice(0, -1)).forEach((c) => change(c, parts[parts.length - 1]));
}

const set = (path: string, value: unknown): Edit => editAt(path, (c, k) => (c[k] = structuredClone(value)));
const del = (path: string): Edit => editAt(path, (c, k) => delete c[k]);
// appends a value, or (FIRST) a copy of the list's first entry
const push = (path: string, value: unknown): Edit => editAt(path, (c, k) => (c[k] as unknown[]).push(structuredClone(value === FIRST ? (c[k] as unknown[])[0] : value)));
const FIRST = Symbol('the first entry');
const all = (...edits: Edit[]): Edit => (doc) => edits.forEach((e) => e(doc));

const BINS = { keyids: ['a'], threshold: 1, bit_length: 10, name_prefix: 'bin' };

describe('tuf/offline metadata parser against @tufjs/models Metadata.fromJSON', () => {
  const docs = documents();

  it('accepts what the publisher writes, with the same model', () => {
    for (const [name, doc] of Object.entries(docs)) expect(expectAgreement(kindOf(name), doc, name), name).to.equal('both');
  });

  it("takes tuf-js's own metadata objects wherever the offline model is taken (a structural subset)", () => {
    const theirs = modelsAsOffline(docs);
    expect(theirs.root.signed.roles.root.keyIDs).to.deep.equal(metadataFromJSON('root', docs.root).signed.roles.root.keyIDs);
    expect(theirs.timestamp.signed.snapshotMeta.version).to.equal(metadataFromJSON('timestamp', docs.timestamp).signed.snapshotMeta.version);
    expect(Object.keys(theirs.snapshot.signed.meta)).to.deep.equal(Object.keys(metadataFromJSON('snapshot', docs.snapshot).signed.meta));
    expect(theirs.targets.signed.delegations?.roles?.builder.paths).to.deep.equal(['apps/*', 'apps/*/*.bin']);
  });

  const cases: [string, keyof typeof docs, Edit, 'both' | 'neither' | 'stricter'][] = [
    ['unrecognized fields everywhere', 'targets', all(set('x', 1), set('signed/x', [1]), set('signed/delegations/x', null), set('signed/delegations/roles/0/x', 2), set('signed/delegations/keys/*/x', 'y')), 'both'],
    ['a non-object custom field', 'targets', set('signed/targets/*/custom', [1]), 'both'],
    ['spec_version 1.0', 'root', set('signed/spec_version', '1.0'), 'both'],
    ['extra timestamp meta entries', 'timestamp', set('signed/meta/x.json', { version: 1 }), 'both'],
    ['hash-binned delegations', 'targets', set('signed/delegations', { keys: {}, succinct_roles: { ...BINS, x: 1 } }), 'both'],
    ['path_hash_prefixes', 'targets', all(del('signed/delegations/roles/0/paths'), set('signed/delegations/roles/0/path_hash_prefixes', ['0', 'ab'])), 'both'],
    ['version missing', 'root', del('signed/version'), 'neither'],
    ['version a string', 'snapshot', set('signed/version', '1'), 'neither'],
    ['expires missing', 'timestamp', del('signed/expires'), 'neither'],
    ['expires not a date', 'targets', set('signed/expires', 'tomorrow'), 'neither'],
    ['_type swapped', 'root', set('signed/_type', 'targets'), 'neither'],
    ['spec_version 2.0.0', 'targets', set('signed/spec_version', '2.0.0'), 'neither'],
    ['spec_version 1.0.0.0', 'snapshot', set('signed/spec_version', '1.0.0.0'), 'neither'],
    ['signatures not an array', 'root', set('signatures', {}), 'neither'],
    ['duplicate signature key ids', 'root', push('signatures', FIRST), 'neither'],
    ['a signature key id named constructor', 'timestamp', push('signatures', { keyid: 'constructor', sig: '00' }), 'neither'],
    ['a signature without sig', 'timestamp', push('signatures', { keyid: 'ab' }), 'neither'],
    ['a top-level role missing from root', 'root', del('signed/roles/timestamp'), 'neither'],
    ['duplicate key ids in a role', 'root', push('signed/roles/root/keyids', FIRST), 'neither'],
    ['threshold 0', 'root', set('signed/roles/targets/threshold', 0), 'neither'],
    ['consistent_snapshot missing', 'root', del('signed/consistent_snapshot'), 'neither'],
    ['a key without keytype', 'root', del('signed/keys/*/keytype'), 'neither'],
    ['timestamp meta without snapshot.json', 'timestamp', set('signed/meta', { 'targets.json': { version: 1 } }), 'neither'],
    ['meta version 0', 'snapshot', set('signed/meta/targets.json/version', 0), 'neither'],
    ['meta length -1', 'timestamp', set('signed/meta/snapshot.json/length', -1), 'neither'],
    ['meta hashes not strings', 'timestamp', set('signed/meta/snapshot.json/hashes', { sha256: 1 }), 'neither'],
    ['a target without hashes', 'targets', del('signed/targets/*/hashes'), 'neither'],
    ['target length -1', 'builder', set('signed/targets/*/length', -1), 'neither'],
    ['delegations without keys', 'targets', del('signed/delegations/keys'), 'neither'],
    ['delegated roles not an array', 'targets', set('signed/delegations/roles', {}), 'neither'],
    ['duplicate delegated role names', 'targets', push('signed/delegations/roles', FIRST), 'neither'],
    ['a delegated role named root', 'targets', set('signed/delegations/roles/0/name', 'root'), 'neither'],
    ['paths and path_hash_prefixes', 'targets', set('signed/delegations/roles/0/path_hash_prefixes', ['ab']), 'neither'],
    ['terminating missing', 'targets', del('signed/delegations/roles/0/terminating'), 'neither'],
    ['bit_length 33', 'targets', set('signed/delegations', { keys: {}, succinct_roles: { ...BINS, bit_length: 33 } }), 'neither'],
    ['float version', 'targets', set('signed/version', 1.5), 'stricter'],
    ['version 0', 'root', set('signed/version', 0), 'stricter'],
    ['float threshold', 'root', set('signed/roles/root/threshold', 1.5), 'stricter'],
    ['float target length', 'targets', set('signed/targets/*/length', 0.5), 'stricter'],
    ['spec_version 1..0', 'root', set('signed/spec_version', '1..0'), 'stricter'],
    ['spec_version empty', 'timestamp', set('signed/spec_version', ''), 'stricter'],
    ['an extra role in root', 'root', set('signed/roles/mirror', { keyids: [], threshold: 1 }), 'stricter'],
    ['root without keys', 'root', del('signed/keys'), 'stricter'],
    ['root without roles', 'root', del('signed/roles'), 'stricter'],
    ['timestamp without meta', 'timestamp', del('signed/meta'), 'stricter'],
    ['snapshot without meta', 'snapshot', del('signed/meta'), 'stricter'],
    ['targets without targets', 'builder', del('signed/targets'), 'stricter'],
    ['targets as an array', 'builder', set('signed/targets', []), 'stricter'],
    ['a delegated role with neither paths nor prefixes', 'targets', del('signed/delegations/roles/0/paths'), 'stricter'],
    ['delegations with roles and succinct_roles', 'targets', set('signed/delegations/succinct_roles', BINS), 'stricter'],
    ['delegations with neither', 'targets', del('signed/delegations/roles'), 'stricter'],
    ['succinct_roles not an object', 'targets', set('signed/delegations/succinct_roles', 5), 'stricter'],
    ['float bit_length', 'targets', set('signed/delegations', { keys: {}, succinct_roles: { ...BINS, bit_length: 1.5 } }), 'stricter'],
  ];

  for (const [what, base, change, expected] of cases) {
    it(`${what}: ${{ both: 'both accept', neither: 'both refuse', stricter: 'we refuse, the models accept' }[expected]}`, () => {
      const doc = structuredClone(docs[base]);
      change(doc);
      expect(expectAgreement(kindOf(base), doc, what)).to.equal(expected);
    });
  }

  it('refuses whatever the models refuse, over 6,000 random structural mutations', () => {
    const seen = { both: 0, neither: 0, stricter: 0 };
    const names = Object.keys(docs) as (keyof typeof docs)[];
    for (let i = 0; i < 6_000; i++) {
      const rng = new Rng(90_000 + i);
      const name = names[i % names.length];
      const mutated = JSON.parse(JSON.stringify(mutateJson(rng, docs[name])) ?? 'null') as unknown;
      seen[expectAgreement(kindOf(name), mutated, `${name} seed ${90_000 + i}`)]++;
    }
    expect(seen.neither, 'refusals both make').to.be.above(1_000);
    expect(seen.both, 'mutations both accept').to.be.above(500);
  });
});
