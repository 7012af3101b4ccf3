import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { decideUpdate, type GateCandidate, type GateInput } from '../../src/core/gate.js';
import { keyFromSeed, generateKey } from '../../src/crypto/ed25519.js';
import { publishedLayout } from '../../src/repo/published-layout.js';
import { Repository } from '../../src/repo/repository.js';
import { rolloutGate } from '../../src/rollout/device.js';
import { applyRollout } from '../../src/rollout/publisher-workdir.js';
import { loadTrustedMetadata } from '../../src/tuf/offline/load-trusted.js';
import type { TrustedMetadata } from '../../src/tuf/offline/types.js';

const NOW = new Date('2026-03-01T12:00:00Z');
const IMAGE = 'fw/board-a/1.1.0.bin';
const DEVICE = keyFromSeed(createHash('sha256').update('rollout-device').digest()).publicHex;
const CUSTOM = { hardwareIds: ['board-a'], version: '1.1.0', securityVersion: 1, kind: 'firmware' } as const;

// A signed repository with one image and (optionally) a rollout for it, as the device verifies it.
function signed(percent?: number): { trusted: TrustedMetadata; bytes?: Uint8Array } {
  const keys = { root: [generateKey()], targets: [generateKey()], snapshot: [generateKey()], timestamp: [generateKey()] };
  const repo = Repository.init({ keys });
  repo.addTarget(IMAGE, { length: 10, sha256: 'ab'.repeat(32), custom: CUSTOM });
  const staged = percent === undefined ? undefined : applyRollout(repo, undefined, { target: IMAGE, change: { kind: 'percent', percent }, now: NOW, salt: '11'.repeat(16), newKeys: () => [generateKey()] });
  repo.sign(NOW);
  const file = (suffix: string): Uint8Array => publishedLayout(repo).metadata.find((f) => f.path.endsWith(suffix))!.bytes;
  const delegated: Record<string, Uint8Array> = staged ? { rollouts: file('.rollouts.json') } : {};
  const trusted = loadTrustedMetadata({ initialRoot: file('1.root.json'), rootChain: [], timestamp: file('timestamp.json'), snapshot: file('.snapshot.json'), targets: file('.targets.json'), delegated }, { now: NOW, expiry: 'enforce' });
  return { trusted, ...(staged ? { bytes: staged.bytes } : {}) };
}

const candidate: GateCandidate = { name: IMAGE, length: 10, sha256: 'ab'.repeat(32), custom: CUSTOM };
function gate(rollout: GateInput['rollout']): ReturnType<typeof decideUpdate> {
  return decideUpdate({
    candidates: [candidate],
    device: { hardwareId: 'board-a', kind: 'firmware' },
    installed: { version: '1.0.0', securityVersion: 1 },
    floors: { securityVersion: 1 },
    revocation: () => ({ ok: true }),
    ...(rollout ? { rollout } : {}),
    freeBytes: 1000,
    maintenanceWindows: [],
    policy: { allowDowngrade: false },
    now: NOW,
  });
}

describe('rollout step of the update gate', () => {
  it('leaves the gate unchanged when the metadata names no policy', () => {
    expect(rolloutGate(signed().trusted, new Uint8Array(0), DEVICE, NOW)).to.equal(undefined);
    const plain = gate(undefined);
    expect(plain.action).to.equal('install');
    expect(gate(() => undefined)).to.deep.equal(plain);
  });

  it('adds the cohort line after the revocation step, or withholds with the bucket', () => {
    const all = signed(100);
    const inCohort = gate((c) => rolloutGate(all.trusted, all.bytes!, DEVICE, NOW)!(c, NOW));
    if (inCohort.action !== 'install') return expect.fail(JSON.stringify(inCohort));
    const at = inCohort.reasons.indexOf('not revoked');
    expect(inCohort.reasons[at + 1]).to.match(/^in rollout cohort \(\d+ < 10000\)$/);
    // at 100 % the release is one a device outside a newer cohort may fall back to; below it is not
    expect(rolloutGate(all.trusted, all.bytes!, DEVICE, NOW)!(candidate, NOW)).to.deep.include({ ok: true, full: true });
    const most = signed(99.99);
    expect(rolloutGate(most.trusted, most.bytes!, DEVICE, NOW)!(candidate, NOW)).to.not.deep.include({ full: true });
    const none = signed(0);
    expect(gate((c) => rolloutGate(none.trusted, none.bytes!, DEVICE, NOW)!(c, NOW))).to.deep.include({ action: 'refuse', code: 'ROLLOUT_WITHHELD' });
  });

  it('withholds every target when the policy bytes are not the ones the metadata names', () => {
    const s = signed(100);
    const altered = Uint8Array.from(s.bytes!);
    altered[10] ^= 1;
    expect(rolloutGate(s.trusted, altered, DEVICE, NOW)!(candidate, NOW)).to.deep.include({ ok: false, code: 'DIGEST_MISMATCH' });
  });
});
